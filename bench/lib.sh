# bench/lib.sh - one private Postfix on 127.0.0.1 with every contender of
# the benchmark wired in at once, plus the helpers that drive and measure it.
#
# Sourced (bash) by bench/run.  It sources tests/e2e/lib.sh of the source
# tree under test and builds on it: the instance directory, main.cf,
# master.cf, maps, vigil's pipe wiring (filters/postfix/main.cf, master.cf,
# vigil_transport, appended unchanged but for paths, ports and user), the
# port picker and the teardown that stops only what it started, by PID.
# What it adds (bench_up):
#
#   smtp-sink     127.0.0.1:SINK_PORT: the members' and reporters' MX
#                 (domains members.test and reporters.test); a delivery
#                 counts when Postfix's smtp(8) logs status=sent there
#   dnsmasq       127.0.0.1:DNS_PORT, no records (vigil's resolver, later)
#   pipe vigil    security@test.example  -> transport vigil:  (vigil-filter)
#   pipe noop     noop@test.example      -> transport noop:   (bench/noop-filter)
#   mlmmj         mlmmj@test.example     -> virtual alias -> transport mlmmj:
#                 wired as /usr/share/doc/mlmmj/README.postfix says
#   milter vigil  securitym@test.example on smtpd 127.0.0.1:VMILTER_PORT
#                 with smtpd_milters = unix:BASE/run/milter.sock (vigil-milter)
#   milter noop   noopm@test.example on smtpd 127.0.0.1:NMILTER_PORT with
#                 smtpd_milters = unix:BASE/run/noop-milter.sock
#   big list      big@test.example       -> transport vigil:  (10,000 members,
#                 filled in by bench_big_members)
#   vigild        the resident half of the pipe front-end, for the
#                 instance's vigil.conf, when the build has one (as the
#                 postmaster runs it: filters/systemd/vigild.service);
#                 vigil-filter hands it every message.  The direct runs
#                 on scratch databases (RSS, held posts, the large relay)
#                 have no vigild: vigil-filter runs vigil-intake there.
#
# Every list has the same 21 members m01..m21@members.test; m21 is the
# owner and only moderator.  A post from m01 goes to 20 members.
#
# Environment read: VIGIL_SRCDIR, VIGIL_BUILDDIR (tree under test),
# BENCH_SRCDIR (bench/), BENCH_BIN (noop-filter, noop-milter).
# shellcheck shell=bash

# shellcheck source=/dev/null
. "$VIGIL_SRCDIR/tests/e2e/lib.sh"

# read by tests/e2e/lib.sh, bench/run and bench/profile
# shellcheck disable=SC2034
E2E_USERS="security securitym noop noopm big reporter owner"
PIPE_LIST=security@test.example
NOOP_LIST=noop@test.example
MILTER_LIST=securitym@test.example
NOOPM_LIST=noopm@test.example
MLMMJ_LIST=mlmmj@test.example
BIG_LIST=big@test.example
OWNER=m21@members.test
POSTER=m01@members.test
REPORTER=reporter@reporters.test
# shellcheck disable=SC2034
LAT_REPORTER=reporter@test.example     # a Maildir on the instance (latency)
NMEMBERS=21
BENCH_PIDS=""                          # helpers we started: "pid:how" words

bench_log() { echo "bench: $*" >&2; }

# bench_members: the 21 member addresses, one a line
bench_members() {
  local i
  for ((i = 1; i <= NMEMBERS; i++)); do printf 'm%02d@members.test\n' "$i"; done
}

# bench_track PID HOW: remember a helper to stop (HOW: plain, or milter:SOCKET)
bench_track() { BENCH_PIDS="$BENCH_PIDS $1:$2"; }

# bench_stop_helpers: stop every helper we started, by PID, newest first
bench_stop_helpers() {
  local w pid how list="" i
  for w in $BENCH_PIDS; do list="$w $list"; done
  BENCH_PIDS=""
  for w in $list; do
    pid=${w%%:*} how=${w#*:}
    e2e_alive "$pid" || { wait "$pid" 2>/dev/null; continue; }
    kill -TERM "$pid" 2>/dev/null
    case $how in
      milter:*)   # libmilter looks at its stop flag every 5 s: wake it with a connection
        sleep 0.05
        python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.settimeout(1)
try: s.connect(sys.argv[1])
except OSError: pass' "${how#milter:}" 2>/dev/null ;;
    esac
    for ((i = 0; i < 200; i++)); do e2e_alive "$pid" || break; sleep 0.05; done
    e2e_alive "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  return 0
}

# bench_down: our helpers (sink, dnsmasq, milters, perf) by PID, then the
# instance and its leftovers (e2e_down of tests/e2e/lib.sh)
bench_down() {
  local rc=$?
  bench_stop_helpers
  e2e_down
  return "$rc"
}

# bench_vigil_conf OUT DATABASE RELAY: write a vigil.conf from bench/conf/vigil.conf.in.
# The resolver line is kept only if this build's "vigil check-config" takes it.
bench_vigil_conf() {
  local out=$1 db=$2 relay=$3
  sed -e "s|@DATABASE@|$db|" -e "s|@RELAY@|$relay|" \
      -e "s|@TEMPLATE_DIR@|$PFX_BASE/templates|" -e "s|@USER@|$E2E_RUN_USER|" \
      -e "s|@DNS_PORT@|$DNS_PORT|g" \
      -e "s|@PIPE_LIST@|$PIPE_LIST|" -e "s|@MILTER_LIST@|$MILTER_LIST|" \
      -e "s|@BIG_LIST@|$BIG_LIST|" -e "s|@OWNER@|$OWNER|g" \
      -e "s|@RESOLVER_LINE@|resolver = 127.0.0.1:$DNS_PORT|" \
      "$BENCH_SRCDIR/conf/vigil.conf.in" > "$out"
  chmod 644 "$out"
  if [ "${BENCH_RESOLVER:-auto}" = no ] ||
     ! "$VIGIL_BUILDDIR/src/cli/vigil" -c "$out" check-config >/dev/null 2>&1; then
    sed -i -e "s|^resolver = .*|# (resolver: not known to this build)|" "$out"
  fi
  "$VIGIL_BUILDDIR/src/cli/vigil" -c "$out" check-config >/dev/null ||
    { bench_log "$out: vigil check-config failed"; return 1; }
}

# bench_add_members CONF: the 21 members on the pipe, milter and big lists
# (the CLI): the owner first, who then adds the others
bench_add_members() {
  local conf=$1 l m
  for l in "$PIPE_LIST" "$MILTER_LIST" "$BIG_LIST"; do
    "$PFX_BASE/bin/vigil" -c "$conf" -l "$l" member add "$OWNER" --role owner >/dev/null ||
      { bench_log "member add $OWNER to $l failed"; return 1; }
    for m in $(bench_members); do
      [ "$m" = "$OWNER" ] && continue
      "$PFX_BASE/bin/vigil" -c "$conf" -l "$l" member add "$m" --as "$OWNER" >/dev/null ||
        { bench_log "member add $m to $l failed"; return 1; }
    done
  done
}

# bench_big_members CONF N: N more members on the big list, straight into
# sqlite (the CLI would take minutes); same columns as "vigil member add"
bench_big_members() {
  local conf=$1 n=$2 db
  db=$(sed -n 's/^database = //p' "$conf")
  bench_as_owner "$db" /usr/bin/python3 - "$db" "$BIG_LIST" "$n" <<'EOF'
import sqlite3, sys, time
db, lst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db)
now = int(time.time())
c.executemany("INSERT OR IGNORE INTO members (list, address, role, name, added) VALUES (?, ?, 'member', '', ?)",
              (("%s" % lst, "b%05d@members.test" % i, now) for i in range(1, n + 1)))
c.commit()
EOF
}

# bench_as_owner DB COMMAND...: run COMMAND as the owner of DB's directory
# (sqlite's -wal and -shm files take their creator's owner)
bench_as_owner() {
  local dir uid
  dir=$(dirname "$1"); shift
  uid=$(stat -c %u "$dir")
  if [ "$uid" = 0 ]; then "$@"; return; fi
  setpriv --reuid="$uid" --regid="$(stat -c %g "$dir")" --clear-groups "$@"
}

# bench_mlmmj: the list directory, as README.postfix and TUNABLES describe
bench_mlmmj() {
  local spool=$PFX_BASE/mlmmj dir c m
  mkdir -p "$spool"
  (echo test.example; echo "$OWNER"; echo en) |
    /usr/bin/mlmmj-make-ml -L mlmmj -s "$spool" > "$PFX_BASE/log/mlmmj-make-ml.log" 2>&1 ||
    { bench_log "mlmmj-make-ml failed"; cat "$PFX_BASE/log/mlmmj-make-ml.log" >&2; return 1; }
  dir=$spool/mlmmj
  c=$dir/control
  echo "$MLMMJ_LIST" > "$c/listaddress"
  echo "$OWNER" > "$c/owner"
  echo "$OWNER" > "$c/moderators"
  # non-members' posts are held for the moderators, the poster is told
  # ("moderated" is not set: it would hold the members' posts too)
  : > "$c/subonlypost"; : > "$c/modnonsubposts"; : > "$c/notifymod"
  # members' posts: to every subscriber but the author, in one SMTP
  # transaction like vigil's (an empty "verp" turns off one transaction
  # per subscriber), through the same re-injection listener
  : > "$c/notmetoo"; : > "$c/verp"
  echo 127.0.0.1 > "$c/relayhost"
  echo "$PFX_RPORT" > "$c/smtpport"
  echo mx.test.example > "$c/smtphelo"
  for m in $(bench_members); do
    /usr/bin/mlmmj-sub -L "$dir" -a "$m" -f -q -s -U >/dev/null 2>&1 ||
      { bench_log "mlmmj-sub $m failed"; return 1; }
  done
  chown -R "$E2E_RUN_USER:" "$spool"
  echo "$MLMMJ_LIST test.example--mlmmj@localhost.mlmmj" > "$spool/virtual"
  echo "test.example--mlmmj@localhost.mlmmj mlmmj:mlmmj" > "$spool/transport"
  postmap -c "$PFX_ETC" "hash:$spool/virtual" && postmap -c "$PFX_ETC" "hash:$spool/transport"
}

# bench_wire: what the benchmark adds to the e2e instance's configuration
bench_wire() {
  local spool=$PFX_BASE/mlmmj
  bench_members > "$PFX_BASE/bench/members"
  {
    echo "$NOOP_LIST noop:"
    echo "$BIG_LIST vigil:"
    echo "members.test smtp:[127.0.0.1]:$SINK_PORT"
    echo "reporters.test smtp:[127.0.0.1]:$SINK_PORT"
  } >> "$PFX_ETC/vigil_transport"
  cat >> "$PFX_ETC/main.cf" <<EOF

# ---- benchmark (bench/lib.sh) ----
# mlmmj, as /usr/share/doc/mlmmj/README.postfix says (step 4); its
# transport map is listed beside vigil's on the one transport_maps line
mlmmj_destination_recipient_limit = 1
recipient_delimiter = +
virtual_alias_maps = hash:$spool/virtual
propagate_unmatched_extensions = canonical, virtual
# the no-op pipe filter: one list per run, as vigil's
noop_destination_recipient_limit = 1
# milters (filters/postfix/main.cf.milter; smtpd_milters is set on the two
# smtpd listeners of master.cf, so the other listeners run none)
milter_default_action = tempfail
milter_protocol = 6
EOF
  sed -i "s|^transport_maps = .*|&, hash:$spool/transport|" "$PFX_ETC/main.cf"
  cat >> "$PFX_ETC/master.cf" <<EOF

# ---- benchmark (bench/lib.sh) ----
# the no-op pipe filter, wired like the vigil service (filters/postfix/master.cf)
noop      unix  -       n       n       -       10      pipe
  flags=q user=$E2E_RUN_USER null_sender=
  argv=$PFX_BASE/bin/noop-filter -r 127.0.0.1:$PFX_RPORT -m $PFX_BASE/bench/members -o $OWNER -f \${sender} -- \${recipient}
# mlmmj (README.postfix step 3; user nobody instead of an mlmmj user: a test instance adds no users)
mlmmj     unix  -       n       n       -       -       pipe
  flags=ORhu user=$E2E_RUN_USER argv=/usr/bin/mlmmj-receive -F -L $spool/\$nexthop
# smtpd listeners with one milter each
127.0.0.1:$VMILTER_PORT inet n - n       -       -       smtpd
  -o syslog_name=postfix/vigil-milter-in
  -o smtpd_milters=unix:$PFX_BASE/run/milter.sock
127.0.0.1:$NMILTER_PORT inet n - n       -       -       smtpd
  -o syslog_name=postfix/noop-milter-in
  -o smtpd_milters=unix:$PFX_BASE/run/noop-milter.sock
EOF
}

# bench_start_sink, bench_start_dns, bench_start_milters: the helpers, each
# a child of this shell known by its PID (dnsmasq before vigil.conf is
# written, the milters once vigil.conf and the members are there)
bench_start_sink() {
  smtp-sink -u "$E2E_RUN_USER" "127.0.0.1:$SINK_PORT" 256 > "$PFX_BASE/log/smtp-sink.log" 2>&1 &
  bench_track $! plain
  e2e_wait_port "$SINK_PORT" || { bench_log "smtp-sink did not start"; return 1; }
}
bench_start_dns() {
  dnsmasq --keep-in-foreground --no-resolv --no-hosts --port="$DNS_PORT" \
    --listen-address=127.0.0.1 --bind-interfaces --pid-file="$PFX_BASE/run/dnsmasq.pid" \
    --user="$E2E_RUN_USER" > "$PFX_BASE/log/dnsmasq.log" 2>&1 &
  bench_track $! plain
  local i
  for ((i = 0; i < 100; i++)); do
    [ -n "$(ss -Hlun "sport = :$DNS_PORT")" ] && return 0
    sleep 0.05
  done
  bench_log "dnsmasq did not start"; return 1
}
bench_start_milters() {
  local i
  "$PFX_BASE/bin/vigil-milter" -f -c "$VIGIL_CONF" -p "unix:$PFX_BASE/run/milter.sock" \
    < /dev/null > "$PFX_BASE/log/milter.log" 2>&1 &
  bench_track $! plain
  setpriv --reuid="$E2E_RUN_USER" --regid="$(id -g "$E2E_RUN_USER")" --clear-groups \
    "$PFX_BASE/bin/noop-milter" -p "unix:$PFX_BASE/run/noop-milter.sock" -l "$NOOPM_LIST" \
    -m "$PFX_BASE/bench/members" -o "$OWNER" -r "127.0.0.1:$PFX_RPORT" \
    < /dev/null > "$PFX_BASE/log/noop-milter.log" 2>&1 &
  bench_track $! "milter:$PFX_BASE/run/noop-milter.sock"
  for ((i = 0; i < 200; i++)); do
    [ -S "$PFX_BASE/run/milter.sock" ] && [ -S "$PFX_BASE/run/noop-milter.sock" ] && return 0
    sleep 0.05
  done
  bench_log "the milters did not start:"; tail -n 5 "$PFX_BASE/log/"*milter.log >&2
  return 1
}

# bench_start_vigild: vigild for the instance's vigil.conf, started as root
# (it becomes the "user" of vigil.conf), if this build has it
bench_start_vigild() {
  local i sock=$PFX_BASE/state/vigild.sock
  [ -x "$PFX_BASE/bin/vigild" ] || return 0
  "$PFX_BASE/bin/vigild" -f -c "$VIGIL_CONF" < /dev/null > "$PFX_BASE/log/vigild.log" 2>&1 &
  bench_track $! plain
  for ((i = 0; i < 200; i++)); do
    [ -S "$sock" ] && return 0
    sleep 0.05
  done
  bench_log "vigild did not start:"; tail -n 5 "$PFX_BASE/log/vigild.log" >&2
  return 1
}

# bench_up: the instance, its helpers, vigil's lists and members, mlmmj's list
bench_up() {
  local p v
  E2E_MODE=pipe
  PFX_BASE=$(mktemp -d /tmp/vigil-e2e.XXXXXX) || return 1
  _E2E_UP=1
  trap bench_down EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  PFX_ETC=$PFX_BASE/etc
  PFX_LOG=$PFX_BASE/log/maillog
  PFX_MAIL=$PFX_BASE/mail/$E2E_DOMAIN
  VIGIL_CONF=$PFX_BASE/vigil.conf
  # shellcheck disable=SC2034   # tests/e2e/lib.sh reads them (no milter of its own here)
  MILTER_SOCK='' MILTER_LOG='' MILTER_PID=''
  PFX_PORT=$(e2e_pick_port) || return 1
  local used="$PFX_PORT"
  for v in PFX_RPORT SINK_PORT DNS_PORT VMILTER_PORT NMILTER_PORT; do
    p=$(e2e_pick_port) || return 1
    while [[ " $used " == *" $p "* ]] || [ -n "$(ss -Hlun "sport = :$p")" ]; do
      p=$(e2e_pick_port) || return 1
    done
    used="$used $p"
    printf -v "$v" '%s' "$p"
  done
  export PFX_BASE PFX_ETC PFX_PORT PFX_RPORT PFX_LOG PFX_MAIL VIGIL_CONF E2E_MODE

  e2e_make_dirs || return 1
  mkdir -p "$PFX_BASE/run" "$PFX_BASE/bench" "$PFX_BASE/scratch"
  chown "$E2E_RUN_USER:" "$PFX_BASE/run"; chmod 755 "$PFX_BASE/run" "$PFX_BASE/bench"
  e2e_write_main_cf
  e2e_write_master_cf
  e2e_write_maps
  e2e_install_vigil || return 1
  install -m 755 "$VIGIL_BUILDDIR/filters/milter/vigil-milter" "$BENCH_BIN/noop-filter" \
    "$BENCH_BIN/noop-milter" "$PFX_BASE/bin/" || return 1
  e2e_wire_vigil
  bench_wire
  bench_start_sink && bench_start_dns || return 1
  bench_vigil_conf "$VIGIL_CONF" "$PFX_BASE/state/vigil.db" "smtp://127.0.0.1:$PFX_RPORT" || return 1
  bench_add_members "$VIGIL_CONF" || return 1
  bench_mlmmj || return 1
  bench_start_milters || return 1
  bench_start_vigild || return 1
  e2e_start_postfix || return 1
  e2e_wait_port "$VMILTER_PORT" && e2e_wait_port "$NMILTER_PORT" || return 1
  bench_log "up: base $PFX_BASE, smtpd $PFX_PORT, re-injection $PFX_RPORT," \
            "milter smtpds $VMILTER_PORT (vigil) $NMILTER_PORT (noop), sink $SINK_PORT, dns $DNS_PORT"
}

# ---------------------------------------------------------------- measuring

# bench_now: seconds since the epoch, nanosecond resolution
bench_now() { date +%s.%N; }

# bench_drain FROM_BYTE WANT IDLE_S MAX_S: wait for the deliveries to
# smtp-sink logged after byte FROM_BYTE of the maillog (bench/drain.py);
# prints "TLAST GOT", the time of the last one and their number
bench_drain() {
  python3 "$BENCH_SRCDIR/drain.py" "$PFX_LOG" "$1" "$SINK_PORT" "$2" "$PFX_BASE/spool" "$3" "$4"
}

# bench_queue_files FROM_BYTE: messages Postfix's cleanup took after byte
# FROM_BYTE of the maillog (queue ids it logged: a message a milter
# discarded counts, as its queue file was written)
bench_queue_files() {
  tail -c +"$(($1 + 1))" "$PFX_LOG" 2>/dev/null |
    sed -n 's/^.* postfix[^ ]*\/cleanup\[[0-9]*\]: \([0-9A-Za-z]*\): .*$/\1/p' | sort -u | wc -l
}

# bench_log_size: the maillog's current size in bytes
bench_log_size() { stat -c %s "$PFX_LOG" 2>/dev/null || echo 0; }

# bench_relay_sessions: connections open to the re-injection listener
# (ESTABLISHED in /proc/net/tcp, local port PFX_RPORT)
bench_relay_sessions() {
  awk -v port="$(printf ':%04X' "$PFX_RPORT")" \
    'NR > 1 && substr($2, length($2) - 4) == port && $4 == "01" { n++ } END { print n + 0 }' /proc/net/tcp
}

# bench_relay_idle: wait (at most 10 s) until the previous measurement's
# SMTP clients have hung up.  The listener has 10 processes (maxproc in
# filters/postfix/master.cf) and vigil-sender and the no-ops keep an idle
# session for 2 s: a measurement started sooner would wait for them.
bench_relay_idle() {
  local i
  for ((i = 0; i < 200; i++)); do
    [ "$(bench_relay_sessions)" = 0 ] && return 0
    sleep 0.05
  done
  bench_log "the re-injection listener still has $(bench_relay_sessions) sessions"
}

# bench_message KIND LIST: a message file for smtp-source -F (KIND member or nonmember)
bench_message() {
  local f=$PFX_BASE/bench/$1-${2%@*}.eml
  [ -f "$f" ] || sed "s|@LIST@|$2|" "$BENCH_SRCDIR/messages/$1.eml" > "$f"
  echo "$f"
}

# bench_target CONTENDER: "PORT LIST" where its list is posted to
bench_target() {
  case $1 in
    pipe-noop)    echo "$PFX_PORT $NOOP_LIST" ;;
    pipe-vigil)   echo "$PFX_PORT $PIPE_LIST" ;;
    mlmmj)        echo "$PFX_PORT $MLMMJ_LIST" ;;
    milter-noop)  echo "$NMILTER_PORT $NOOPM_LIST" ;;
    milter-vigil) echo "$VMILTER_PORT $MILTER_LIST" ;;
    *) return 1 ;;
  esac
}

# bench_source PORT LIST KIND N SESSIONS: smtp-source with the message of KIND
bench_source() {
  local port=$1 list=$2 kind=$3 n=$4 s=$5 from=$POSTER
  [ "$kind" = nonmember ] && from=$REPORTER
  smtp-source -s "$s" -m "$n" -M client.test -f "$from" -t "$list" \
    -F "$(bench_message "$kind" "$list")" "127.0.0.1:$port"
}

# bench_expected KIND N: deliveries to smtp-sink that N posts of KIND cause
# (a member's post: 20 members; anyone else's: the poster and the moderator)
bench_expected() {
  case $1 in
    member) echo $(($2 * (NMEMBERS - 1))) ;;
    nonmember) echo $(($2 * 2)) ;;
    mix) echo $(((NMEMBERS - 1) * ($2 / 2) + 2 * ($2 - $2 / 2))) ;;   # half (rounded down) members'
  esac
}

# bench_throughput CONTENDER SET N SESSIONS: one measurement.  Prints
# "CONTENDER SET N accept_s e2e_s delivered expected queue_files".  The
# clock runs from the first connection to the last delivery at smtp-sink:
# it stops when every expected delivery is there and the queue is empty,
# or when the queue is empty and nothing more arrived for 2 s (then the
# time of the last delivery counts, and delivered < expected shows what
# never came).
bench_throughput() {
  local who=$1 set=$2 n=$3 s=$4 port list t0 t1 tlast want got=0 off rc=0
  read -r port list < <(bench_target "$who")
  want=$(bench_expected "$set" "$n")
  bench_relay_idle
  off=$(bench_log_size)
  t0=$(bench_now)
  if [ "$set" = mix ]; then
    bench_source "$port" "$list" member $((n / 2)) $(((s + 1) / 2)) > /dev/null 2>&1 & local a=$!
    bench_source "$port" "$list" nonmember $((n - n / 2)) $((s / 2)) > /dev/null 2>&1 || rc=1
    wait "$a" || rc=1
  else
    bench_source "$port" "$list" "$set" "$n" "$s" > /dev/null 2>&1 || rc=1
  fi
  t1=$(bench_now)
  [ "$rc" = 0 ] || bench_log "$who $set: smtp-source reported an error"
  read -r tlast got < <(bench_drain "$off" "$want" 2 "${BENCH_WAIT:-300}")
  printf '%s %s %d %.3f %.3f %d %d %d\n' "$who" "$set" "$n" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$tlast - $t0" | bc)" "$got" "$want" "$(bench_queue_files "$off")"
}
