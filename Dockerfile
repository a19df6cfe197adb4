FROM python:3.11-slim
WORKDIR /src
# What the wheel is built from: the product's packages, and data/ (installed as its
# tradeledger/data/). The benchmarks and the tests are no part of the image.
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY projections ./projections
COPY api ./api
COPY storage ./storage
COPY eventschema ./eventschema
COPY cli ./cli
COPY tradeledger ./tradeledger
COPY data ./data
RUN pip install --no-cache-dir . && rm -rf /src
WORKDIR /app
EXPOSE 8000
CMD ["tradeledger", "serve", "--host", "0.0.0.0", "--port", "8000"]
