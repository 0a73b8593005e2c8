# lib_fault.sh — shared set-up for the fault tests: tests/cli/lib.sh, a tiny dataset of Aria 2021
# images (symlinks), the googlenet backbone, and mounts that are undone on exit.
. "$(dirname "${BASH_SOURCE[0]}")/../cli/lib.sh"

MODEL="$ASSETS/models/googlenet-bvlc.onnx"
ARIA="$ASSETS/data/aria2021"
if [ ! -f "$MODEL" ] || [ ! -d "$ARIA" ]; then echo "SKIP: $MODEL or $ARIA absent"; exit 77; fi

MOUNTS=()
cleanup() {
    local m
    for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# make_data DIR N: N healthy + N ALL images.
make_data() {
    mkdir -p "$1/Benign" "$1/Pro"
    local f
    for f in $(ls "$ARIA/Benign" | head -"$2"); do ln -s "$ARIA/Benign/$f" "$1/Benign/$f"; done
    for f in $(ls "$ARIA/Pro" | head -"$2"); do ln -s "$ARIA/Pro/$f" "$1/Pro/$f"; done
}

# mount_tmpfs DIR SIZE: a small tmpfs (root only); returns 1 if mounting is not permitted.
mount_tmpfs() {
    mkdir -p "$1"
    mount -t tmpfs -o "size=$2" blastscan-fault "$1" 2>/dev/null || return 1
    MOUNTS+=("$1")
}

# fill DIR: write until the file system is full.
fill() { dd if=/dev/zero of="$1/.filler" bs=4k >/dev/null 2>&1 || true; }

# no_temp_left DIR WHAT: no temporary file (.NAME.tmp.XXXXXX) survived a failed write.
no_temp_left() {
    local left
    left=$(find "$1" -name '.*.tmp.*' 2>/dev/null | head -3)
    if [ -z "$left" ]; then ok; else fail "$2: temporary files left: $left"; fi
}

# same_files DIR COPY WHAT: every file of COPY is still in DIR with the same bytes (new files,
# e.g. cache entries, may have been added).
same_files() {
    local f bad=""
    while IFS= read -r f; do
        cmp -s "$2/$f" "$1/$f" || bad="$bad $f"
    done < <(cd "$2" && find . -type f)
    if [ -z "$bad" ]; then ok; else fail "$3: previous outputs changed:$bad"; fi
}
