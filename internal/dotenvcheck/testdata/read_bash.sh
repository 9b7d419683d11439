# Reads a dotenv file as `set -a; . FILE` in bash does and writes each of
# the NAMEs that is set to OUTDIR/NAME.
# Usage: bash read_bash.sh FILE OUTDIR NAME...
file=$1 out=$2
shift 2
set -a
. "$file"
set +a
for n; do
  if [[ -v $n ]]; then
    printf %s "${!n}" > "$out/$n"
  fi
done
