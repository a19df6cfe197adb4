"""`python -m eventschema` rewrites the checked-in JSON Schema of a dataset line."""

from eventschema import SCHEMA_PATH, write_json_schema

write_json_schema(SCHEMA_PATH)
print(f"wrote {SCHEMA_PATH}")
