# tests/faults/lib.sh - faults injected into vigil behind a real Postfix,
# one at a time and at random points, and an account of every message.
#
# Sourced (bash only) by tests/faults/faults.test (the short form, part of
# "make check") and scripts/faults (the full run), after tests/e2e/lib.sh's
# variables are set (VIGIL_SRCDIR, VIGIL_BUILDDIR):
#   . "$VIGIL_SRCDIR/tests/faults/lib.sh"
#   faults_require
#   faults_init
#   faults_block pipe kill-intake db-full ...   # one instance, one round a fault
#   faults_block vigild kill-vigild ...
#   faults_block milter kill-milter ...
#   faults_summary            # the breakdown by kind, then the last line:
#                             # "faults: N injected, L lost, D duplicated"
#
# A block brings up a private Postfix with tests/e2e/lib.sh (e2e_up) in one
# of three wirings, mounts a small tmpfs of our own on the database's
# directory (state/), adds the members alice (owner), bob and carol, and
# runs one round per fault:
#   pipe    filters/postfix/ as the postmaster wires it; vigil-filter runs
#           vigil-intake for every message
#   vigild  the same, with vigild running (vigild_start: ours, by PID)
#   milter  vigil-milter (e2e_up --milter; ours, by PID)
#
# A round sends 4 to 6 messages (kill-filter: 8 to 10), each tagged
# FTrrrrr.n in its Subject and Message-ID, staggered over a second, on
# parallel SMTP sessions with swaks:
# posts by a member (each other member must get one copy) and reports by
# reporter+TAG, a non-member (held once, one auto-reply, one notice to the
# moderators).  While they flow, one fault is injected at a random point:
#   kill-intake  kill -9 of the process pipe(8) runs (vigil-filter, or
#                vigil-intake once it has replaced itself), at a random age
#   kill-filter  kill -9 of vigil-filter while vigild has its message
#   kill-vigild  kill -9 of vigild while a message is in flight
#   kill-milter  kill -9 of vigil-milter, at a random moment of the round
#   relay-down   the re-injection listener taken out of master.cf (reload;
#                Postfix ends the sessions in progress: a message the relay
#                took but did not answer for is sent again, the window SMTP
#                leaves, and counted apart when the logs prove it, see
#                faults.py account)
#   relay-4xx    the re-injection listener answers 450 to RCPT, to DATA or
#                after the message (smtpd_*_restrictions = defer; reload)
#   db-locked    another writer holds the database (BEGIN IMMEDIATE) longer
#                than vigil's busy timeout: one more message is sent once the
#                lock is held, and the lock is held until a message was
#                refused for it ("not stored ... database is locked" in a
#                log), and a little longer
#   db-full      the database's file system full (a filler file on our tmpfs)
#   db-readonly  the database read-only: modes 0500/0400, or a read-only
#                bind mount over state/
# vigil-sender, which sends the outbox beside those programs, is not
# killed: a kill of it while the relay takes the end of a message would
# send that message twice, the one window SMTP leaves (vigil-filter(8)).
# Killed processes are found by PID only: ours (vigild, vigil-milter), or
# those of this instance's pipe(8) (MAIL_CONFIG and the executable copied
# into PFX_BASE/bin), never by name.  Then the round recovers: the fault is
# removed, what was killed starts again, mail the SMTP client was refused
# with 4xx is sent again (as a client MTA would), "postqueue -f" and "vigil
# flush" are repeated until Postfix's queue and vigil's outbox are empty
# (a bounded wait), and every message of the round is accounted for
# (tests/faults/faults.py account).  At the end of a block every message of
# the block is accounted for once more: that count is the one reported.
#
# Environment read:
#   FAULTS_SEED     the random seed (default: from the clock; printed)
#   FAULTS_DIR      where the results go (default: a new /tmp/vigil-faults.*);
#                   rounds.tsv (one line a round), problems (every message
#                   not where it should be), blocks/ (the ledgers)
# Every function logs to stderr; stdout is the TAP stream.
# shellcheck shell=bash
set -u

. "$VIGIL_SRCDIR/tests/e2e/lib.sh"

FAULTS_PY=$VIGIL_SRCDIR/tests/faults/faults.py
FAULTS_PYTHON=                  # a python3 the database's owner may run (faults_require)
FAULTS_KINDS="kill-intake kill-filter kill-vigild kill-milter relay-down relay-4xx db-locked db-full db-readonly"
FAULTS_INJECTED=0               # faults injected (a kill that found no victim is not)
FAULTS_LOST=0                   # messages lost, by the block accounts
FAULTS_DUP=0                    # messages duplicated, by the block accounts
FAULTS_REPEATS=0                # messages the relay took twice, having died before answering
FAULTS_MESSAGES=0               # messages sent
FAULTS_ROUND=0                  # rounds so far, over all blocks
FAULTS_WIRING=                  # the wiring of the running block
FAULTS_BLOCK=0                  # blocks so far
FAULTS_STATE_MNT=               # state/ while our tmpfs is mounted on it
FAULTS_RO_BIND=                 # state/ while our read-only bind mount is on it
FAULTS_LOCK_PID=                # the python process holding the database's lock
FAULTS_ON=                      # the fault in force, for faults_off
FAULTS_RO_MODES=()              # db-readonly: "MODE PATH" to restore
FAULTS_SEND_PIDS=()             # swaks jobs of the round
declare -A FAULTS_N=() FAULTS_KLOST=() FAULTS_KDUP=() FAULTS_KMSG=() FAULTS_EFFECT=() FAULTS_AGAIN=()
declare -A FAULTS_LOG0=()       # log file -> its size when the round began

# faults_log TEXT...: one line on stderr
faults_log() { echo "faults: $*" >&2; }

# faults_require: skip unless the e2e harness can run every wiring, and
# python3, setpriv, sqlite3 and a tmpfs mount are available
faults_require() {
  local d
  e2e_require --milter
  [ -x "${VIGIL_BUILDDIR:-}/filters/pipe/vigild" ] || e2e_skip "vigild not built"
  [ -x "${VIGIL_BUILDDIR:-}/filters/pipe/vigil-intake" ] || e2e_skip "vigil-intake not built"
  command -v python3 >/dev/null 2>&1 || e2e_skip "python3 is not installed"
  command -v setpriv >/dev/null 2>&1 || e2e_skip "setpriv (util-linux) is not installed"
  # the database's owner runs it too: not a python3 of root's own PATH
  for FAULTS_PYTHON in /usr/bin/python3 "$(command -v python3)"; do
    [ -x "$FAULTS_PYTHON" ] && faults_as_owner "$FAULTS_PYTHON" -c 'import sqlite3' 2>/dev/null && break
    FAULTS_PYTHON=
  done
  [ -n "$FAULTS_PYTHON" ] || e2e_skip "no python3 with sqlite3 that $E2E_RUN_USER may run"
  command -v sqlite3 >/dev/null 2>&1 || e2e_skip "sqlite3 is not installed"
  command -v findmnt >/dev/null 2>&1 || e2e_skip "findmnt (util-linux) is not installed"
  d=$(mktemp -d /tmp/vigil-faults-mnt.XXXXXX) || e2e_skip "mktemp failed"
  if ! mount -t tmpfs -o size=1m,mode=0700 vigil-faults "$d" 2>/dev/null; then
    rmdir "$d"
    e2e_skip "cannot mount a tmpfs (the database-full fault needs one)"
  fi
  umount "$d" && rmdir "$d"
}

# faults_as_owner CMD...: CMD as the database's owner (the pipe user), from /
faults_as_owner() {
  (cd / && setpriv --reuid="$E2E_RUN_USER" --regid="$(id -g "$E2E_RUN_USER")" --clear-groups "$@")
}

# faults_init: the seed, the results directory, the EXIT trap
faults_init() {
  FAULTS_SEED=${FAULTS_SEED:-$(( $(date +%s%N) % 1000000007 ))}
  RANDOM=$FAULTS_SEED
  if [ -z "${FAULTS_DIR:-}" ]; then
    FAULTS_DIR=$(mktemp -d /tmp/vigil-faults.XXXXXX) || return 1
  fi
  mkdir -p "$FAULTS_DIR/blocks" || return 1
  : > "$FAULTS_DIR/rounds.tsv"
  : > "$FAULTS_DIR/problems"
  trap 'faults_cleanup; e2e_down' EXIT
  diag "faults: seed $FAULTS_SEED, results in $FAULTS_DIR"
}

# ------------------------------------------------------------------ chance

# rand_ms LO HI: a whole number of milliseconds, uniform in [LO, HI]
rand_ms() {
  echo $(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1)))
}

# secs MS: MS milliseconds as seconds for sleep
secs() {
  printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# pick WORD...: one of the words
pick() {
  local a=("$@")
  echo "${a[RANDOM % ${#a[@]}]}"
}

# ------------------------------------------------------------------ blocks

# faults_state: the database's directory
faults_state() {
  echo "$PFX_BASE/state"
}

# faults_mount_state: a tmpfs of our own on state/, the database's directory
# (empty: a running milter is stopped first and started again on it)
faults_mount_state() {
  local st uid gid
  st=$(faults_state)
  uid=$(id -u "$E2E_RUN_USER"); gid=$(id -g "$E2E_RUN_USER")
  [ "$E2E_MODE" = milter ] && milter_stop
  mount -t tmpfs -o "size=64m,mode=0750,uid=$uid,gid=$gid" vigil-faults "$st" || return 1
  FAULTS_STATE_MNT=$st
  if [ "$E2E_MODE" = milter ]; then
    milter_start || return 1
  fi
}

# faults_umount [-l]: take our mounts off state/ (the read-only bind first),
# only those we made; -l: lazily (processes may still hold the database)
faults_umount() {
  local lazy=${1:-}
  if [ -n "$FAULTS_RO_BIND" ]; then
    umount $lazy "$FAULTS_RO_BIND" && FAULTS_RO_BIND=
  fi
  if [ -n "$FAULTS_STATE_MNT" ]; then
    if findmnt -n -M "$FAULTS_STATE_MNT" -o SOURCE | grep -qx vigil-faults; then
      umount $lazy "$FAULTS_STATE_MNT" || return 1
    fi
    FAULTS_STATE_MNT=
  fi
}

# faults_up WIRING: a private instance in WIRING, our tmpfs, the members
faults_up() {
  local mode=
  FAULTS_WIRING=$1
  [ "$1" = milter ] && mode=--milter
  e2e_up $mode || return 1
  trap 'faults_cleanup; e2e_down' EXIT     # e2e_up put its own
  FW=$PFX_BASE/faults
  mkdir -p "$FW/lock" && chmod 755 "$FW" && chown "$E2E_RUN_USER:" "$FW/lock"
  : > "$FW/ledger"
  cp "$PFX_ETC/master.cf" "$FW/master.cf"
  faults_mount_state || { e2e_log "cannot mount a tmpfs on $(faults_state)"; return 1; }
  vigil_cli member add alice@test.example --role owner >/dev/null &&
    vigil_cli member add bob@test.example --as alice@test.example >/dev/null &&
    vigil_cli member add carol@test.example --as alice@test.example >/dev/null || return 1
  if [ "$1" = vigild ]; then
    vigild_start || return 1
  fi
}

# faults_cleanup: stop what the rounds started (by PID), take our mounts off;
# e2e_down does the rest (EXIT trap)
faults_cleanup() {
  local p
  trap '' PIPE
  [ -n "$FAULTS_LOCK_PID" ] && kill -KILL "$FAULTS_LOCK_PID" 2>/dev/null
  for p in "${FAULTS_SEND_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  FAULTS_SEND_PIDS=()
  [ -n "${PFX_BASE:-}" ] || return 0
  faults_umount -l
  return 0
}

# faults_down: end the block in order: daemons and Postfix stopped, our
# mounts off, the instance removed
faults_down() {
  vigild_stop
  milter_stop
  e2e_stop_master
  dns_stop
  e2e_kill_leftovers
  faults_umount || faults_umount -l
  e2e_down
}

# faults_block WIRING KIND...: one instance, one round for each KIND
# (kinds that do not apply to WIRING are skipped), then the account of the block
faults_block() {
  local wiring=$1 kind tries
  shift
  FAULTS_BLOCK=$((FAULTS_BLOCK + 1))
  diag "block $FAULTS_BLOCK: $wiring, $# rounds"
  if ! faults_up "$wiring"; then
    ok "block $FAULTS_BLOCK ($wiring): instance up" false
    faults_down
    return 1
  fi
  for kind in "$@"; do
    faults_applies "$kind" "$wiring" || continue
    # a kill that finds nothing to kill is no fault: try again (8 times)
    for tries in 1 2 3 4 5 6 7 8; do
      faults_round "$kind" && break
    done
  done
  faults_block_account
  faults_down
}

# faults_applies KIND WIRING: the fault makes sense in this wiring
faults_applies() {
  case $1 in
    kill-intake) [ "$2" = pipe ] ;;
    kill-filter|kill-vigild) [ "$2" = vigild ] ;;
    kill-milter) [ "$2" = milter ] ;;
    relay-down|relay-4xx|db-locked|db-full|db-readonly) true ;;
    *) false ;;
  esac
}

# ---------------------------------------------------------------- messages

# faults_message TAG TYPE AUTHOR: write the message; prints its envelope sender
faults_message() {
  local tag=$1 type=$2 who=$3 from
  if [ "$type" = post ]; then
    from=$who@$E2E_DOMAIN
  else
    from=reporter+$tag@$E2E_DOMAIN
  fi
  {
    printf 'From: %s <%s>\n' "$who" "$from"
    printf 'To: %s\n' "$E2E_LIST"
    printf 'Subject: %s %s from %s\n' "$tag" "$type" "$who"
    printf 'Date: %s\n' "$(date -R)"
    printf 'Message-ID: <%s@%s>\n' "$tag" "$E2E_DOMAIN"
    printf '\n'
    printf 'Fault round %s: %s %s.\n' "$FAULTS_ROUND" "$type" "$tag"
  } > "$FW/$tag.eml"
  echo "$from"
}

# faults_swaks TAG FROM: one SMTP transaction for the message; its
# transcript goes to FW/TAG.out (appended: a message may be sent again)
faults_swaks() {
  swaks --server 127.0.0.1 --port "$PFX_PORT" --helo client.test --from "$2" \
        --to "$E2E_LIST" --data "@$FW/$1.eml" --timeout 60 >> "$FW/$1.out" 2>&1
  echo "---- end" >> "$FW/$1.out"
}

# faults_reply TAG: the code of the server's last reply to the last attempt
# (250, 451, ...; "none" when there was none)
faults_reply() {
  local code
  code=$(awk '/^---- end/ { last = code; code = "" }
              /^(<-|<\*\*) +[0-9][0-9][0-9][ -]/ { c = $2; if (c != "221") code = c }
              END { print (last == "" ? "none" : last) }' "$FW/$1.out" 2>/dev/null)
  echo "${code:-none}"
}

# faults_send_one TYPE DELAY_MS: start one more message of the round (a
# background job), TYPE post or report
faults_send_one() {
  local type=$1 tag who from
  tag=$(printf 'FT%05d.%d' "$FAULTS_ROUND" "$((${#FAULTS_TAGS[@]} + 1))")
  who=reporter
  [ "$type" = post ] && who=$(pick alice bob carol)
  from=$(faults_message "$tag" "$type" "$who")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tag" "$type" "$from" "$who" "$FAULTS_ROUND" \
    "$FAULTS_KIND" "$FAULTS_WIRING" >> "$FW/ledger"
  FAULTS_TAGS+=("$tag")
  echo "$from" > "$FW/$tag.from"
  (sleep "$(secs "$2")"; faults_swaks "$tag" "$from") &
  FAULTS_SEND_PIDS+=($!)
  FAULTS_MESSAGES=$((FAULTS_MESSAGES + 1))
}

# faults_send N_MIN N_MAX: start the round's messages, a post and a report
# and more of either, staggered over a second; FAULTS_TAGS lists them
faults_send() {
  local n i
  n=$(rand_ms "$1" "$2")
  FAULTS_TAGS=()
  FAULTS_SEND_PIDS=()
  faults_send_one post "$(rand_ms 0 1000)"
  faults_send_one report "$(rand_ms 0 1000)"
  for ((i = 3; i <= n; i++)); do
    faults_send_one "$(pick post report)" "$(rand_ms 0 1000)"
  done
}

# faults_wait_sent: the round's SMTP clients are done
faults_wait_sent() {
  local p
  for p in "${FAULTS_SEND_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  FAULTS_SEND_PIDS=()
}

# faults_resend: as a client MTA does, send again what was refused with 4xx
# (or got no answer), until it is taken (250) or refused for good (5xx)
faults_resend() {
  local tag code try again=0
  for tag in "${FAULTS_TAGS[@]}"; do
    for ((try = 0; try < 30; try++)); do
      code=$(faults_reply "$tag")
      case $code in
        2*|5*) break ;;
      esac
      [ "$try" = 0 ] && again=$((again + 1))
      sleep 0.5
      faults_swaks "$tag" "$(cat "$FW/$tag.from")"
    done
    code=$(faults_reply "$tag")
    [ "${code:0:1}" = 2 ] || faults_log "$tag: the server's last answer is $code"
  done
  FAULTS_RESENT=$again
}

# ------------------------------------------------------------------ faults

# faults_master_cf CHANGE: change the re-injection listener in master.cf
# (postconf -P/-M ARGS, or "restore" the block's original) and reload
faults_master_cf() {
  local svc=127.0.0.1:$PFX_RPORT/inet
  case $1 in
    restore) cp "$FW/master.cf" "$PFX_ETC/master.cf" ;;
    down) postconf -c "$PFX_ETC" -M# "$svc" ;;
    *) postconf -c "$PFX_ETC" -P "$svc/$1=defer" ;;
  esac || return 1
  touch -d '-10 seconds' "$PFX_ETC/master.cf"
  postfix -c "$PFX_ETC" reload >> "$FW/reload.log" 2>&1
}

# faults_log_mark: remember where the logs end, for faults_logged
faults_log_mark() {
  local f
  FAULTS_LOG0=()
  for f in "$PFX_LOG" "${VIGILD_LOG:-}" "${MILTER_LOG:-}"; do
    [ -n "$f" ] && FAULTS_LOG0[$f]=$(stat -c %s "$f" 2>/dev/null || echo 0)
  done
}

# faults_logged REGEX: a log of the instance (Postfix's, vigild's, the
# milter's) has a line matching REGEX since faults_log_mark
faults_logged() {
  local f
  for f in "${!FAULTS_LOG0[@]}"; do
    tail -c +"$((${FAULTS_LOG0[$f]} + 1))" "$f" 2>/dev/null | grep -qE -- "$1" && return 0
  done
  return 1
}

# faults_log_count REGEX: lines matching REGEX in the logs since faults_log_mark
faults_log_count() {
  local f n=0 c
  for f in "${!FAULTS_LOG0[@]}"; do
    c=$(tail -c +"$((${FAULTS_LOG0[$f]} + 1))" "$f" 2>/dev/null | grep -cE -- "$1")
    n=$((n + ${c:-0}))
  done
  echo "$n"
}

# faults_db_files: the database's files that exist
faults_db_files() {
  local f
  for f in "$(faults_state)"/vigil.db*; do [ -e "$f" ] && echo "$f"; done
  return 0
}

# faults_on KIND: put the fault in force (all but the kills); FAULTS_DETAIL
# says how; false when it could not be
faults_on() {
  local st f v t
  st=$(faults_state)
  FAULTS_ON=$1
  case $1 in
    relay-down)
      faults_master_cf down || return 1
      for ((v = 0; v < 100; v++)); do
        [ -z "$(ss -Hltn "sport = :$PFX_RPORT")" ] && break
        sleep 0.05
      done
      [ -z "$(ss -Hltn "sport = :$PFX_RPORT")" ] || { faults_log "the relay still listens"; return 1; }
      FAULTS_DETAIL=listener-removed ;;
    relay-4xx)
      v=$(pick smtpd_recipient_restrictions smtpd_data_restrictions smtpd_end_of_data_restrictions)
      faults_master_cf "$v" || return 1
      FAULTS_DETAIL=${v#smtpd_}; FAULTS_DETAIL=${FAULTS_DETAIL%_restrictions} ;;
    db-locked)
      rm -f "$FW/lock/locked" "$FW/lock/unlock"
      faults_as_owner "$FAULTS_PYTHON" "$FAULTS_PY" lock "$st/vigil.db" "$FW/lock/locked" \
        "$FW/lock/unlock" >> "$FW/lock.log" 2>&1 &
      FAULTS_LOCK_PID=$!
      for ((v = 0; v < 600; v++)); do
        [ -s "$FW/lock/locked" ] && break
        e2e_alive "$FAULTS_LOCK_PID" || break
        sleep 0.05
      done
      if [ ! -s "$FW/lock/locked" ]; then
        faults_log "the database could not be locked: $(tail -n 3 "$FW/lock.log")"
        FAULTS_DETAIL=
        return 1
      fi
      # a writer that waits for it: a message sent now
      faults_send_one post 0
      t=$(date +%s%N)
      for ((v = 0; v < 1800; v++)); do
        faults_logged '(tempfail|not stored).*database is locked' && break
        sleep 0.05
      done
      sleep "$(secs "$(rand_ms 300 2000)")"
      FAULTS_DETAIL=held-$((($(date +%s%N) - t) / 1000000))ms ;;
    db-full)
      cat /dev/zero > "$st/.faults-filler" 2>/dev/null
      v=$(df --output=avail -B1 "$st" | tail -n 1 | tr -d ' ')
      [ "$v" -lt 65536 ] || { faults_log "$st is not full: $v bytes free"; return 1; }
      FAULTS_DETAIL=free-${v}B ;;
    db-readonly)
      if [ "$(pick modes bind)" = modes ]; then
        FAULTS_RO_MODES=("$(stat -c %a "$st") $st")
        while read -r f; do FAULTS_RO_MODES+=("$(stat -c %a "$f") $f"); chmod 0400 "$f"; done \
          < <(faults_db_files)
        chmod 0500 "$st"
        FAULTS_DETAIL=modes
      else
        mount --bind "$st" "$st" && FAULTS_RO_BIND=$st &&
          mount -o remount,bind,ro "$st" || return 1
        FAULTS_DETAIL=ro-bind
      fi ;;
  esac
}

# faults_off: end the fault in force, if any
faults_off() {
  local m st
  st=$(faults_state)
  case $FAULTS_ON in
    relay-down|relay-4xx) faults_master_cf restore ;;
    db-locked)
      if [ -n "$FAULTS_LOCK_PID" ]; then
        touch "$FW/lock/unlock"
        wait "$FAULTS_LOCK_PID" 2>/dev/null
        FAULTS_LOCK_PID=
      fi ;;
    db-full) rm -f "$st/.faults-filler" ;;
    db-readonly)
      for m in "${FAULTS_RO_MODES[@]}"; do chmod "${m%% *}" "${m#* }"; done
      FAULTS_RO_MODES=()
      if [ -n "$FAULTS_RO_BIND" ]; then
        umount "$FAULTS_RO_BIND" && FAULTS_RO_BIND=
      fi ;;
  esac
  FAULTS_ON=
}

# faults_kill KIND: kill -9 at a random point; FAULTS_VICTIM says what
# (empty: nothing was there to kill)
faults_kill() {
  local out exes victim= life
  # life: ms a victim usually lives, until lifetimes are seen
  case $1 in
    kill-intake) exes=$PFX_BASE/bin/vigil-filter,$PFX_BASE/bin/vigil-intake; life=100 ;;
    kill-filter) exes=$PFX_BASE/bin/vigil-filter; life=10 ;;
    kill-vigild) exes=$PFX_BASE/bin/vigil-filter; victim=$VIGILD_PID; life=10 ;;
    kill-milter)
      sleep "$(secs "$(rand_ms 0 1300)")"
      if [ -n "$MILTER_PID" ] && e2e_alive "$MILTER_PID" && kill -KILL "$MILTER_PID" 2>/dev/null; then
        FAULTS_VICTIM="$MILTER_PID vigil-milter at $(date +%s.%3N)"
      else
        FAULTS_VICTIM=
      fi
      return 0 ;;
  esac
  out=$("$FAULTS_PYTHON" "$FAULTS_PY" kill --etc "$PFX_ETC" --exe "$exes" ${victim:+--victim "$victim"} \
          --pending-exe "$(postconf -c "$PFX_ETC" -h daemon_directory)/pipe" --default-ms "$life" \
          --window 6 --stats "$FAULTS_DIR/lifetimes.json" --seed "$RANDOM")
  case $out in
    killed*) FAULTS_VICTIM=${out#killed } ;;
    *) FAULTS_VICTIM= ;;
  esac
  # "PID EXE AGE_MS at TIME"; kill-vigild: the age is the time since the trigger
  [ "$1" = kill-vigild ] && [ -n "$FAULTS_VICTIM" ] && FAULTS_VICTIM="$victim vigild ${FAULTS_VICTIM#* victim }"
  return 0
}

# -------------------------------------------------------------- recovery

# faults_pipe_procs: the live vigil-filter and vigil-intake processes of
# this instance, and its vigil-sender processes but the one beside the
# running vigild or vigil-milter (those of vigil-intake, those left by a
# vigild or vigil-milter killed: they finish what they send)
faults_pipe_procs() {
  local exe pid ppid n=0
  while read -r exe; do
    pid=${exe#/proc/}; pid=${pid%/exe}
    if [ "$(readlink "$exe" 2>/dev/null)" = "$PFX_BASE/bin/vigil-sender" ]; then
      ppid=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null) || continue
      [ -n "$ppid" ] || continue
      [ "$ppid" = "${VIGILD_PID:-x}" ] || [ "$ppid" = "${MILTER_PID:-x}" ] && continue
    fi
    n=$((n + 1))
  done < <(find /proc -mindepth 2 -maxdepth 2 -name exe \
             \( -lname "$PFX_BASE/bin/vigil-filter" -o -lname "$PFX_BASE/bin/vigil-intake" \
                -o -lname "$PFX_BASE/bin/vigil-sender" \) 2>/dev/null)
  echo "$n"
}

# faults_outbox_count: rows in vigil's outbox ("?" when it cannot be read)
faults_outbox_count() {
  local n
  n=$(faults_as_owner sqlite3 -cmd '.timeout 10000' "$(faults_state)/vigil.db" \
        'SELECT count(*) FROM outbox;' 2>/dev/null)
  echo "${n:-?}"
}

# faults_restart: start again what a kill stopped
faults_restart() {
  if [ "$FAULTS_WIRING" = vigild ] && ! e2e_alive "${VIGILD_PID:-0}"; then
    vigild_stop
    vigild_start || faults_log "vigild does not start again"
  fi
  if [ "$FAULTS_WIRING" = milter ] && ! e2e_alive "${MILTER_PID:-0}"; then
    milter_stop
    milter_start || faults_log "vigil-milter does not start again"
  fi
}

# faults_settle [SECONDS=120]: "postqueue -f" and "vigil flush" until
# Postfix's queue and vigil's outbox are empty and no filter runs, three
# looks in a row; FAULTS_FLUSHES counts the vigil flush runs that sent mail
faults_settle() {
  local t=${1:-120} i quiet=0 q o p out
  FAULTS_FLUSHES=0
  for ((i = 0; i < t * 5; i++)); do
    q=$(queue_count); o=$(faults_outbox_count); p=$(faults_pipe_procs)
    if [ "$q" = 0 ] && [ "$o" = 0 ] && [ "$p" = 0 ]; then
      quiet=$((quiet + 1))
      [ "$quiet" -ge 3 ] && return 0
      sleep 0.2
      continue
    fi
    quiet=0
    if [ $((i % 10)) = 0 ]; then
      [ "$q" != 0 ] && postqueue -c "$PFX_ETC" -f 2>/dev/null
      if [ "$o" != 0 ] && [ "$p" = 0 ]; then
        out=$(vigil_cli flush 2>&1)
        case $out in "flush: 0 sent"*) ;; *) FAULTS_FLUSHES=$((FAULTS_FLUSHES + 1)) ;; esac
      fi
    fi
    sleep 0.2
  done
  faults_log "not settled after $t s: queue $q, outbox $o, filters $p"
  return 1
}

# ---------------------------------------------------------------- accounts

# faults_account LEDGER: every message of LEDGER against the mailboxes,
# the held posts, the outbox and Postfix's queue; prints faults.py's lines
faults_account() {
  local q=$PFX_BASE/spool
  if ! vigil_cli held --json --all > "$FW/held.json" 2> "$FW/held.err" ||
     ! faults_as_owner "$FAULTS_PYTHON" "$FAULTS_PY" outbox "$(faults_state)/vigil.db" \
       > "$FW/outbox.txt" 2>> "$FW/held.err"; then
    echo "the database cannot be read: $(head -c 300 "$FW/held.err")"
    echo "account: unknown, ? lost, ? duplicated"
    return 1
  fi
  find "$q/incoming" "$q/active" "$q/deferred" "$q/hold" "$q/maildrop" -type f 2>/dev/null |
    xargs -r grep -aoh 'FT[0-9]\{5\}\.[0-9]*' > "$FW/queued.txt" 2>/dev/null
  "$FAULTS_PYTHON" "$FAULTS_PY" account "$1" "$PFX_MAIL" "$FW/held.json" "$FW/outbox.txt" \
    "$FW/queued.txt" "$PFX_LOG" ${VIGILD_LOG:+"$VIGILD_LOG"} ${MILTER_LOG:+"$MILTER_LOG"}
}

# faults_round_account: the messages of this round, once settled
faults_round_account() {
  awk -F '\t' -v r="$FAULTS_ROUND" '$5 == r' "$FW/ledger" > "$FW/round.ledger"
  faults_account "$FW/round.ledger"
}

# faults_block_account: every message of the block, at its end; these
# counts are the ones reported
faults_block_account() {
  local out line k lost dup
  faults_settle 120 >/dev/null
  out=$(faults_account "$FW/ledger")
  cp "$FW/ledger" "$FAULTS_DIR/blocks/$FAULTS_BLOCK-$FAULTS_WIRING.ledger"
  while IFS= read -r line; do
    case $line in
      account:*) ;;
      *) echo "block $FAULTS_BLOCK: $line" >> "$FAULTS_DIR/problems" ;;
    esac
  done <<<"$out"
  # the evidence of a block that went wrong: its logs
  if [ "$(grep -vc '^account:' <<<"$out")" -gt 0 ]; then
    for line in "$PFX_LOG" "${VIGILD_LOG:-}" "${MILTER_LOG:-}"; do
      [ -n "$line" ] && [ -f "$line" ] && cp "$line" "$FAULTS_DIR/blocks/$FAULTS_BLOCK-$(basename "$line")"
    done
  fi
  for k in $FAULTS_KINDS; do
    lost=$(grep -c " round [0-9]* $k (.* LOST" <<<"$out")
    dup=$(grep -c " round [0-9]* $k (.* DUPLICATED" <<<"$out")
    FAULTS_KLOST[$k]=$((${FAULTS_KLOST[$k]:-0} + lost))
    FAULTS_KDUP[$k]=$((${FAULTS_KDUP[$k]:-0} + dup))
  done
  lost=$(sed -n 's/^account: .*, \([0-9]*\) lost, .*/\1/p' <<<"$out")
  dup=$(sed -n 's/^account: .*, \([0-9]*\) duplicated$/\1/p' <<<"$out")
  # no account is no proof: every message of the block counts as lost
  FAULTS_LOST=$((FAULTS_LOST + ${lost:-$(grep -c . "$FW/ledger")}))
  FAULTS_DUP=$((FAULTS_DUP + ${dup:-0}))
  FAULTS_REPEATS=$((FAULTS_REPEATS + $(grep -c ' REPEATED BY THE RELAY$' <<<"$out")))
  ok "block $FAULTS_BLOCK ($FAULTS_WIRING): $(tail -n 1 <<<"$out")" \
    test "${lost:-x}" = 0 -a "${dup:-x}" = 0
  [ "${lost:-x}${dup:-x}" = 00 ] || sed 's/^/#   /' <<<"$out"
  ok "block $FAULTS_BLOCK ($FAULTS_WIRING): no sanitizer report" faults_sanitizer_clean
}

# faults_sanitizer_clean: no ASan/UBSan report in the logs of the block
faults_sanitizer_clean() {
  local f
  for f in "$PFX_LOG" "${MILTER_LOG:-}" "${VIGILD_LOG:-}"; do
    [ -n "$f" ] && [ -f "$f" ] || continue
    if grep -nE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -n 5 | grep .; then
      return 1
    fi
  done
  return 0
}

# ------------------------------------------------------------------ rounds

# faults_round KIND: one round with one fault of KIND; false when a kill
# found nothing to kill (the round's mail is still accounted for)
faults_round() {
  local kind=$1 t0 at log0 out defers again ok=1
  FAULTS_ROUND=$((FAULTS_ROUND + 1))
  FAULTS_KIND=$kind
  FAULTS_VICTIM= FAULTS_DETAIL= FAULTS_RESENT=0
  log0=$(wc -l < "$PFX_LOG")
  faults_log_mark
  t0=$(date +%s%N)
  # a vigil-filter that hands its message to vigild lives a few
  # milliseconds: more of them, more chances to catch one
  if [ "$kind" = kill-filter ]; then faults_send 8 10; else faults_send 4 6; fi
  case $kind in
    kill-*) faults_kill "$kind" ;;
    *)
      at=$(rand_ms 0 800)
      sleep "$(secs "$at")"
      if faults_on "$kind"; then
        [ "$kind" = db-locked ] || sleep "$(secs "$(rand_ms 500 2500)")"
        FAULTS_VICTIM="at ${at}ms $FAULTS_DETAIL"
      fi
      faults_off ;;
  esac
  faults_wait_sent
  faults_off
  faults_restart
  faults_resend
  faults_settle 120 || ok=0
  defers=$(tail -n +"$((log0 + 1))" "$PFX_LOG" | grep -cE 'relay=vigil,.*status=deferred')
  # vigild's and the milter's (vigil-intake logs to syslog only)
  again=$(faults_log_count 'action=again')
  out=$(faults_round_account)
  case $out in *" 0 lost, 0 duplicated") ;; *) ok=0 ;; esac
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$FAULTS_ROUND" "$FAULTS_WIRING" "$kind" \
    "${FAULTS_VICTIM:-none}" "deferred=$defers" "resent=$FAULTS_RESENT" "flushed=$FAULTS_FLUSHES" \
    "again=$again" "$((($(date +%s%N) - t0) / 1000000))ms" "$(tail -n 1 <<<"$out")" \
    >> "$FAULTS_DIR/rounds.tsv"
  if [ -z "$FAULTS_VICTIM" ]; then
    diag "round $FAULTS_ROUND ($FAULTS_WIRING $kind): not injected (nothing to kill); not counted"
    [ "$ok" = 1 ] || sed 's/^/#   /' <<<"$out"
    return 1
  fi
  FAULTS_INJECTED=$((FAULTS_INJECTED + 1))
  FAULTS_N[$kind]=$((${FAULTS_N[$kind]:-0} + 1))
  FAULTS_KMSG[$kind]=$((${FAULTS_KMSG[$kind]:-0} + ${#FAULTS_TAGS[@]}))
  [ "$defers" -gt 0 ] || [ "$FAULTS_RESENT" -gt 0 ] || [ "$FAULTS_FLUSHES" -gt 0 ] ||
    [ "$again" -gt 0 ] && FAULTS_EFFECT[$kind]=$((${FAULTS_EFFECT[$kind]:-0} + 1))
  FAULTS_AGAIN[$kind]=$((${FAULTS_AGAIN[$kind]:-0} + again))
  TAP_N=$((TAP_N + 1))
  if [ "$ok" = 1 ]; then
    echo "ok $TAP_N - round $FAULTS_ROUND $FAULTS_WIRING $kind ($FAULTS_VICTIM): ${#FAULTS_TAGS[@]} messages, deferred $defers, resent $FAULTS_RESENT, flushed $FAULTS_FLUSHES, again $again"
  else
    TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - round $FAULTS_ROUND $FAULTS_WIRING $kind ($FAULTS_VICTIM): ${#FAULTS_TAGS[@]} messages"
    sed 's/^/#   /' <<<"$out"
  fi
  return 0
}

# faults_summary: the breakdown by kind, then the last line
faults_summary() {
  local k
  echo "# kind          injected  messages  with effect  taken again  lost  duplicated"
  for k in $FAULTS_KINDS; do
    [ "${FAULTS_N[$k]:-0}" -gt 0 ] || continue
    printf '# %-13s %8d  %8d  %11d  %11d  %4d  %10d\n' "$k" "${FAULTS_N[$k]}" "${FAULTS_KMSG[$k]:-0}" \
      "${FAULTS_EFFECT[$k]:-0}" "${FAULTS_AGAIN[$k]:-0}" "${FAULTS_KLOST[$k]:-0}" "${FAULTS_KDUP[$k]:-0}"
  done
  echo "# (with effect: rounds where Postfix deferred, a client had to send again, vigil flush sent"
  echo "#  mail, or a message came again; taken again: vigild's and the milter's action=again lines)"
  echo "# $FAULTS_MESSAGES messages in $FAULTS_ROUND rounds; seed $FAULTS_SEED; results in $FAULTS_DIR"
  [ "$FAULTS_REPEATS" = 0 ] ||
    echo "# $FAULTS_REPEATS sent twice because the relay died between taking it and answering (RFC 1047; see problems)"
  echo "faults: $FAULTS_INJECTED injected, $FAULTS_LOST lost, $FAULTS_DUP duplicated"
}
