FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY api ./api
COPY storage ./storage
COPY eventschema ./eventschema
COPY cli ./cli
COPY tradeledger ./tradeledger
COPY bench ./bench
COPY data ./data
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["tradeledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
