# Sourced by ./run and ./test: a .venv with Flowdeck installed, (re)installed only when
# pyproject.toml changed since the last install (its sha256 is kept in a stamp file).

flowdeck_python() {
  local candidate
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "Flowdeck needs Python 3.11 or newer (python3.11 or python3 on PATH)" >&2
  return 1
}

# ensure_venv TARGET STAMP...: pip-install TARGET ('.' or '.[test]') unless the first STAMP
# already records this pyproject.toml; writes every STAMP the install satisfies.
ensure_venv() {
  local target=$1
  shift
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv" >&2
    "$(flowdeck_python)" -m venv .venv
  fi
  local digest
  digest=$(.venv/bin/python -c 'import hashlib, pathlib; print(hashlib.sha256(pathlib.Path("pyproject.toml").read_bytes()).hexdigest())')
  if [ "$(cat ".venv/$1" 2>/dev/null)" = "$digest" ]; then
    return 0
  fi
  echo "==> installing Flowdeck ($target) into .venv: first run, or pyproject.toml changed" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$target"
  local stamp
  for stamp in "$@"; do
    echo "$digest" >".venv/$stamp"
  done
}
