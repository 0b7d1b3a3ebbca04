#!/usr/bin/env bash
# Build the Lambda code into build/lambda/ (template.yaml's CodeUri) and zip it to build/lambda.zip.
# Dependencies come as manylinux wheels for the function's runtime (python3.13, x86_64), whatever
# Python runs this script; Kyrios itself is copied as source: the Lambda answers interactions and
# does not run the exchange, so the C order book (built for the server image) is left out.
# boto3/botocore are left out too: the Lambda runtime provides them.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON_VERSION="${KYRIOS_LAMBDA_PYTHON:-3.13}"
OUT=build/lambda

rm -rf "$OUT" build/lambda.zip
mkdir -p "$OUT"
python3 - >build/lambda-requirements.txt <<'PY'
import tomllib
with open("pyproject.toml", "rb") as f:
    deps = tomllib.load(f)["project"]["dependencies"]
print("\n".join(d for d in deps if not d.startswith(("boto3", "botocore"))))
PY
python3 -m pip install --quiet --target "$OUT" --requirement build/lambda-requirements.txt \
  --platform manylinux2014_x86_64 --implementation cp --python-version "$PYTHON_VERSION" \
  --only-binary=:all:
cp -r src/kyrios "$OUT/kyrios"
find "$OUT" -name '__pycache__' -type d -prune -exec rm -rf {} + -o -name '*.so' -path '*/kyrios/*' -delete
(cd "$OUT" && python3 -m zipfile -c ../lambda.zip .)
echo "built $OUT and build/lambda.zip; deploy with: sam deploy --guided --template-file deploy/lambda/template.yaml"
