#!/usr/bin/env bash
# Every command's options as its parser and its --help see them (both made from one table,
# src/cli/cli_options.h): the parser accepts exactly the options --help lists, each with a value
# exactly when --help names one; every option is handled (no "declared but not handled"); every
# --word anywhere in a command's help is one of its options or a global one; and a usage error
# (unrecognized, ambiguous, missing value, value given to a flag, unknown short option) exits 2
# with one message naming the command and where its help is.
# The parser's options come from the parser itself: '--=' is a prefix of every option, so the
# parser refuses it as ambiguous and names them all.
. "$(dirname "$0")/lib.sh"

# the probes start no work: every command refuses them before reading anything
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-10000} # (no OpenMP re-exec per probe: faster)

# help_options FILE: "name arg|-" for each option line ("  --name ARG  help", ARG capitalised).
help_options() {
    sed -nE 's/^  --([a-z][a-z0-9-]*)( ([A-Z][^ ]*))?( .*)?$/\1 \3/p' "$1" |
        awk '{print $1, ($2 == "" ? "-" : "arg")}' | sort -u
}

# parser_options CMD...: "name arg|-" for each option the parser of CMD accepts (not --help).
parser_options() {
    local name
    "$BIN" "$@" --= >/dev/null 2>"$WORK/probe"
    grep -o "possibilities:.*" "$WORK/probe" | grep -oE "'--[a-z0-9-]+'" | tr -d "'" |
        sed 's/^--//' | grep -vx help | sort -u >"$WORK/names"
    while read -r name; do
        # a value option takes "1" and the unknown option after it ends the parse before any
        # work; a flag refuses "=1"
        "$BIN" "$@" "--$name=1" --no-such-option >/dev/null 2>"$WORK/probe"
        if grep -qF "option '--$name' doesn't allow an argument" "$WORK/probe"; then
            echo "$name -"
            "$BIN" "$@" "--$name" --no-such-option >/dev/null 2>"$WORK/probe"
        else
            echo "$name arg"
        fi
        if grep -qE "not handled|unrecognized option '--$name|ambiguous" "$WORK/probe"; then
            echo "$name: $(head -1 "$WORK/probe")" >>"$WORK/unhandled"
        fi
    done <"$WORK/names"
}

expect 0 "blastscan --help" -- "$BIN" --help
sed -n '/^Global options:/,/^$/p' "$WORK/out" >"$WORK/global.help"
help_options "$WORK/global.help" >"$WORK/global"
[ "$(wc -l <"$WORK/global")" -ge 4 ] && ok || fail "blastscan --help lists the global options"
while read -r name arg; do
    if [ "$arg" = arg ]; then
        expect 2 "--$name without its value" -- "$BIN" "--$name"
        stderr_has "blastscan: option '--$name' requires an argument" "--$name without its value"
        expect 0 "--$name 1 is accepted" -- "$BIN" "--$name" 1 --version
    else
        expect 0 "--$name is accepted" -- "$BIN" "--$name"
    fi
done <"$WORK/global"

for cmd in list tensor infer extract autoencoder experiment reproduce train predict cells; do
    expect 0 "$cmd --help" -- "$BIN" $cmd --help
    cp "$WORK/out" "$WORK/help"
    help_options "$WORK/help" >"$WORK/listed"
    [ -s "$WORK/listed" ] && ok || fail "$cmd --help lists options"
    : >"$WORK/unhandled"
    if [ $cmd = autoencoder ]; then # one --help for fit and encode
        { parser_options autoencoder fit; parser_options autoencoder encode; } | sort -u >"$WORK/parsed"
    else
        parser_options $cmd >"$WORK/parsed"
    fi
    if diff "$WORK/listed" "$WORK/parsed" >"$WORK/diff"; then ok; else
        fail "$cmd: --help (<) and the parser (>) differ:"; sed 's/^/  /' "$WORK/diff"
    fi
    if [ ! -s "$WORK/unhandled" ]; then ok; else
        fail "$cmd: options the parser takes but no code handles:"; sed 's/^/  /' "$WORK/unhandled"
    fi
    # every --word of the help text (usage lines, prose) is an option of the command or global
    grep -oE -- "--[a-z][a-z0-9-]*" "$WORK/help" | sed 's/^--//' | sort -u >"$WORK/named"
    cut -d' ' -f1 "$WORK/parsed" "$WORK/global" | sort -u >"$WORK/known"
    stale=$(comm -23 "$WORK/named" "$WORK/known" | tr '\n' ' ')
    [ -z "$stale" ] && ok || fail "$cmd --help names options it does not take: $stale"
done

# Usage errors: exit 2, the message naming the command, then where help is.
usage_error() { # WHAT MESSAGE NAME ARGS...: NAME, the command as messages name it
    local what=$1 message=$2 cmd=$3
    shift 3
    expect 2 "$what" -- "$BIN" "$@"
    stderr_has "blastscan $cmd: $message" "$what"
    stderr_has "Try 'blastscan $cmd --help'." "$what"
}
for cmd in list tensor infer extract experiment reproduce train predict cells "autoencoder fit"; do
    # shellcheck disable=SC2086
    usage_error "$cmd: unknown option" "unrecognized option '--no-such-option'" "$cmd" $cmd --no-such-option
    [ "$(wc -l <"$WORK/err")" = 2 ] && ok || fail "$cmd: one message for an unknown option"
    # shellcheck disable=SC2086
    usage_error "$cmd: unknown short option" "invalid option -- 'x'" "$cmd" $cmd -x
    # shellcheck disable=SC2086
    usage_error "$cmd: ambiguous option" "option '--=' is ambiguous; possibilities: '--" "$cmd" $cmd --=
done
usage_error "missing value" "option '--data' requires an argument" list list --data
usage_error "missing value (prefix)" "option '--format' requires an argument" list list --fo
usage_error "ambiguous prefix" "option '--e' is ambiguous; possibilities: '--explain' '--explain-grid' '--explain-patch'" predict predict --e
usage_error "value given to a flag" "option '--no-ood-gate' doesn't allow an argument" predict predict --no-ood-gate=1
usage_error "missing value (subcommand)" "option '--epochs' requires an argument" "autoencoder fit" autoencoder fit --epochs

finish
