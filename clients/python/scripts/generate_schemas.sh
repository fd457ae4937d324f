#!/usr/bin/env bash
# Regenerates src/tarefa/schemas/ (pydantic v2 models of every schema in the API's OpenAPI
# document) from a spec file: bash clients/python/scripts/generate_schemas.sh openapi.json [OUT_DIR]
# The generator and formatter versions are pinned (scripts/lib.sh ensure_python_client), so the
# same spec gives the same files; tests/test_schemas.py fails when the committed models differ from
# what the live /openapi.json generates.
set -euo pipefail
spec="$1"
out="${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/src/tarefa/schemas}"
py="${TAREFA_PYCLIENT_PY:-python3}"
rm -rf "$out"
"$py" -m datamodel_code_generator --input "$spec" --input-file-type openapi \
  --output-model-type pydantic_v2.BaseModel --output "$out" --target-python-version 3.10 \
  --disable-timestamp --formatters black isort 2>/dev/null
# The header names the input file; keep it stable whatever the spec file was called.
find "$out" -name '*.py' -exec sed -i 's|^#   filename:  .*|#   filename:  openapi.json (GET /openapi.json)|' {} +
