#!/bin/bash
# Parity with scikit-learn at the ESet's width (400 × 3072): the fixture is ~5 MB, so it is
# generated here rather than committed. Skips (exit 77, shown by ctest) without python3-sklearn.
set -euo pipefail
test_bin="$1"
if ! /usr/bin/python3 -c 'import sklearn, numpy' 2>/dev/null; then
    echo "SKIP: python3-sklearn is not installed (apt-get install python3-sklearn)"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
/usr/bin/python3 "$BLASTSCAN_SOURCE_DIR/tests/svm/make_parity_fixture.py" --wide "$dir"
BS_SVM_FIXTURES="$dir" "$test_bin"
