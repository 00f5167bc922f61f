#!/bin/bash
# The project's copy of ../shared/athena-check/run.sh (see README.md beside it for what changed and why).
# run.sh: runs conformance cases through the project's Athena (Trino) dialect without Athena:
# the cloud Plan step's query for each case (athena-sql.mts), transpiled to DuckDB by sqlglot
# with Trino-mimicking macros (transpile.py), over DuckDB views holding what the Glue tables
# would hand to the query from the case's lake (glue_tables.py), members read back through the
# project's AthenaEngine.members() (run-duckdb.mts) and compared with the case's expected/.
#
# Run from the project root, after `npm ci`:
#   ../shared/athena-check/run.sh [--lake-variants] [CASES_DIR...]
# A CASES_DIR is a folder of cases, or one case (a folder holding case.json). Default:
# ../shared/conformance/cases, ../shared/athena-check/probes and the project's own cases (test/cases/),
# plus the lake variants of the
# public cases and the probe of `cohorts doctor --cloud` (doctor-case.mts). --lake-variants also runs every given case with its lake written as Parquet
# (ts TIMESTAMP, TIMESTAMPTZ, mixed with JSONL: lake-variants.mts), named <case>.<variant>.
# Each case but the lake variants is also refreshed from tiles as the cloud does it (tiles-check.mts:
# the AthenaTileStore's statements, the tiled query), at a mid-day as-of the day before and at the
# case's as-of; XCHECK_TILES=all includes the lake variants.
# Prints one line per mismatch, then "athena dialect: X/Y cohorts match, A/B cases whole; JSON Lines
# reading: agrees; tiles: T/U cohorts match, P/Q populations, C/D cases whole". Exit 0 only when
# every cohort matches, with and without tiles. XCHECK_DETAIL=1 shows a few person ids per mismatch.
# Needs node and the project's node_modules (tsx, @duckdb/node-api), a python3, and sqlglot
# (Debian's python3-sqlglot, installed with apt-get when no python3 on PATH has sqlglot).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROJ=$(pwd)

if [[ ! -f $PROJ/package.json || ! -f $PROJ/shared/cloud/athena-engine.ts ]]; then
  echo "run this from the project root: npm run test:athena [-- CASES_DIR...]"; exit 2
fi
TSX=$PROJ/node_modules/.bin/tsx
[[ -x $TSX ]] || { echo "no tsx in node_modules: run npm ci first"; exit 2; }
[[ -f $PROJ/node_modules/@duckdb/node-api/package.json ]] || { echo "no @duckdb/node-api in node_modules: run npm ci first"; exit 2; }

# A python3 on PATH that has sqlglot; Debian's python3-sqlglot is installed when there is none.
SQLGLOT_PY=
find_sqlglot() {
  local candidate
  while read -r candidate; do
    if "$candidate" -c 'import sqlglot' 2>/dev/null; then SQLGLOT_PY=$candidate; return 0; fi
  done < <(type -ap python3 python3.11 python3.12 python3.13 2>/dev/null)
  return 1
}
if ! find_sqlglot; then
  echo "no python3 with sqlglot on PATH: installing python3-sqlglot with apt-get" >&2
  sudo=(); if ((EUID != 0)) && command -v sudo >/dev/null; then sudo=(sudo); fi
  if ! { "${sudo[@]}" apt-get update -qq >&2 && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sqlglot >&2; }; then
    echo "apt-get could not install python3-sqlglot"; exit 2
  fi
  hash -r
  find_sqlglot || { echo "python3-sqlglot is installed but no python3 on PATH imports sqlglot"; exit 2; }
fi
PY=$(type -p python3) || PY=$SQLGLOT_PY

WORK=$(mktemp -d -t athena-check.XXXXXX) || { echo "mktemp failed"; exit 2; }
trap 'rm -rf "$WORK"' EXIT

# --lake-variants also runs each given case with its lake written as Parquet (lake-variants.mts);
# with no case folders: the public cases, the probes, and the public cases' lake variants.
variants=0 args=()
for a in "$@"; do
  if [[ $a == --lake-variants ]]; then variants=1; else args+=("$a"); fi
done
roots=("${args[@]}") variant_roots=("${args[@]}")
if ((${#args[@]} == 0)); then
  roots=("$PROJ/../shared/conformance/cases" "$PROJ/../shared/athena-check/probes" "$PROJ/test/cases")
  variant_roots=("$PROJ/../shared/conformance/cases") variants=1
fi

# Appends to the array named $1 the case folders of each further argument: the folder itself
# when it holds case.json, else its sub-folders.
add_case_dirs() {
  local -n into=$1; shift
  local d c
  for d in "$@"; do
    d=${d%/}
    [[ -d $d ]] || { echo "no such folder: $d"; exit 2; }
    if [[ -f $d/case.json ]]; then into+=("$d"); continue; fi
    for c in "$d"/*/; do
      [[ -d $c ]] && into+=("${c%/}")
    done
  done
  return 0
}
dirs=()
add_case_dirs dirs "${roots[@]}"
# The cases refreshed from tiles too (tiles-check.mts): all but the lake variants, whose tile
# statements read the same rows from the same materialized relation (XCHECK_TILES=all: them too).
declare -A tiled=()
for c in "${dirs[@]}"; do tiled[$c]=1; done
if ((variants)); then
  sources=()
  add_case_dirs sources "${variant_roots[@]}"
  if ! "$TSX" "$HERE/lake-variants.mts" "$WORK/lake-variants" "${sources[@]}" >"$WORK/variants.txt" 2>"$WORK/variants.err"; then
    echo "writing the lake variants failed: $(tail -n 1 "$WORK/variants.err" | cut -c1-160)"; exit 2
  fi
  mapfile -t more <"$WORK/variants.txt"
  dirs+=("${more[@]}")
fi
# With no case folders, the probe of `cohorts doctor --cloud` too (doctor-case.mts): the doctor
# compares a deployment's answers with the local engine's; here the emulation answers.
if ((${#args[@]} == 0)); then
  if ! "$TSX" "$HERE/doctor-case.mts" "$WORK/doctor" >"$WORK/doctor.txt" 2>"$WORK/doctor.err"; then
    echo "writing the doctor's probe case failed: $(tail -n 1 "$WORK/doctor.err" | cut -c1-160)"; exit 2
  fi
  dirs+=("$(cat "$WORK/doctor.txt")")
  tiled[${dirs[-1]}]=1
fi
((${#dirs[@]} > 0)) || { echo "no cases found in: ${roots[*]}"; exit 2; }

total=0 ok=0 cases_ok=0 ncases=0 notes=()
tiles_ok=0 tiles_total=0 tiles_pop_ok=0 tiles_pop=0 tiles_cases_ok=0 ntiled=0
for c in "${dirs[@]}"; do
  name=$(basename "$c"); ncases=$((ncases + 1))
  w=$WORK/$ncases-$name; mkdir -p "$w"
  n=$(ls "$c/expected" | grep -c '\.txt$')
  fail() { echo "mismatch: $name: $1"; total=$((total + n)); }
  if ! "$TSX" "$HERE/athena-sql.mts" "$PROJ" "$c" >"$w/plan.json" 2>"$w/err"; then fail "building the Athena query failed: $(tail -n 1 "$w/err" | cut -c1-160)"; continue; fi
  if ! "$PY" "$HERE/glue_tables.py" "$w/plan.json" "$c/lake" "$w/tables" 2>"$w/err"; then fail "reading the lake failed: $(tail -n 1 "$w/err" | cut -c1-160)"; continue; fi
  if ! "$SQLGLOT_PY" "$HERE/transpile.py" "$w/plan.json" "$w/query.sql" "$w/macros.sql" 2>"$w/err"; then fail "transpilation failed: $(tail -n 1 "$w/err" | cut -c1-160)"; continue; fi
  tiles_py=()
  if [[ -n ${tiled[$c]:-} || ${XCHECK_TILES:-} == all ]]; then tiles_py=("$SQLGLOT_PY") ntiled=$((ntiled + 1)); fi
  if ! out=$("$TSX" "$HERE/run-duckdb.mts" "$PROJ" "$c" "$w" "${tiles_py[@]}" 2>"$w/err"); then fail "the DuckDB run failed: $(tail -n 1 "$w/err" | cut -c1-160)"; continue; fi
  tiles_seen=$((${#tiles_py[@]} == 0))
  while IFS= read -r line; do
    case $line in
      mismatch\ *) echo "mismatch: ${line#mismatch }" ;;
      tiles-mismatch\ *) echo "mismatch: tiles: ${line#tiles-mismatch }" ;;
      tiles-summary\ *)
        read -r _ _ tok ttotal pok ptotal <<<"$line"
        tiles_seen=1 tiles_ok=$((tiles_ok + tok)) tiles_total=$((tiles_total + ttotal)) tiles_pop_ok=$((tiles_pop_ok + pok)) tiles_pop=$((tiles_pop + ptotal))
        ((tok == ttotal && pok == ptotal && ptotal > 0)) && tiles_cases_ok=$((tiles_cases_ok + 1)) ;;
      note\ *) notes+=("${line#note }") ;;
      summary\ *)
        read -r _ _ cok ctotal <<<"$line"
        ok=$((ok + cok)); total=$((total + ctotal))
        ((cok == ctotal && ctotal > 0)) && cases_ok=$((cases_ok + 1)) ;;
    esac
  done <<<"$out"
  ((tiles_seen)) || echo "mismatch: tiles: $name: not checked (the full query's check stopped first)"
  rm -rf "$w/tables" "$w/glue-tables"
done
# The JSON Lines reading field by field, the same on both dialects (jsonl-agree.mts).
mkdir -p "$WORK/jsonl"
jsonl=$("$TSX" "$HERE/jsonl-agree.mts" "$PROJ" "$WORK/jsonl" "$SQLGLOT_PY" 2>&1) || jsonl="mismatch jsonl-reading: the check failed: $(tail -n 1 <<<"$jsonl" | cut -c1-160)"
grep '^mismatch ' <<<"$jsonl" | sed 's/^mismatch /mismatch: /'
jsonl_ok=$(grep -c '^ok jsonl-reading' <<<"$jsonl")
for note in "${notes[@]}"; do echo "note: $note"; done
echo "athena dialect: $ok/$total cohorts match, $cases_ok/$ncases cases whole; JSON Lines reading: $( ((jsonl_ok == 1)) && echo agrees || echo differs); tiles: $tiles_ok/$tiles_total cohorts match, $tiles_pop_ok/$tiles_pop populations, $tiles_cases_ok/$ntiled cases whole"
[[ $ok == "$total" && $total -gt 0 && $jsonl_ok == 1 && $tiles_ok == "$tiles_total" && $tiles_pop_ok == "$tiles_pop" && $tiles_cases_ok == "$ntiled" ]]
