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
python3 -m pip install --quiet --disable-pip-version-check --target "$OUT" --requirement build/lambda-requirements.txt \
  --platform manylinux2014_x86_64 --implementation cp --python-version "$PYTHON_VERSION" \
  --only-binary=:all:
cp -r src/kyrios "$OUT/kyrios"
find "$OUT" -name '__pycache__' -type d -prune -exec rm -rf {} +
find "$OUT/kyrios" -name '*.so' -delete  # a locally built order book, for the wrong Python
# Lambda's limit is 250 MiB unzipped: drop what the interactions app never loads. Cython sources
# shipped beside the compiled modules; uvloop (uvicorn's, no server runs here); Babel's locale data
# but the root, English and Japanese ones (the catalogues Kyrios has).
find "$OUT" \( -name '*.c' -o -name '*.pyx' -o -name '*.pxd' \) -not -path "$OUT/kyrios/*" -delete
rm -rf "$OUT"/uvloop "$OUT"/uvloop-*.dist-info
find "$OUT/babel/locale-data" -name '*.dat' -not -name 'root.dat' -not -name 'en*.dat' -not -name 'ja*.dat' -delete
size=$(du -sb "$OUT" | cut -f1)
if [ "$size" -ge 262144000 ]; then
  echo "build/lambda is $size bytes: over Lambda's 250 MiB limit" >&2
  exit 1
fi
(cd "$OUT" && python3 -m zipfile -c ../lambda.zip .)
echo "built $OUT and build/lambda.zip; deploy with: sam deploy --guided --template-file deploy/lambda/template.yaml"
