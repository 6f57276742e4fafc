# tests/e2e/lib.sh - end-to-end test harness for vigil: a private, loopback-only
# Postfix instance wired to vigil-filter (or to vigil-milter) exactly as
# filters/postfix/ tells the postmaster, plus helpers to send mail, wait for
# deliveries and print TAP.
#
# Sourced (bash only) by tests/e2e/*.test and scripts/demo:
#   . "$VIGIL_SRCDIR/tests/e2e/lib.sh"
#   e2e_require            # or: e2e_require --no-vigil (harness-only tests),
#                          #     e2e_require --milter (also needs vigil-milter)
#   e2e_up                 # installs "trap e2e_down EXIT" (and INT/TERM traps
#                          # that exit, so the EXIT trap runs): do not replace them
#                          # e2e_up --milter: the milter setup instead of pipe(8)
#   ok "bob got the mail" wait_delivered bob 1
#   tap_done               # last command: the script's exit status
#
# Two wirings (E2E_MODE, set by e2e_up):
#   pipe    (default) filters/postfix/main.cf, master.cf, vigil_transport:
#           transport_maps route the list to the "vigil" pipe(8) service
#   milter  (e2e_up --milter) filters/postfix/main.cf.milter, master.cf.milter:
#           smtpd_milters = unix:PFX_BASE/run/milter.sock; vigil-milter is
#           started as root in the background (it drops to "user = nobody"
#           of vigil.conf), see milter_start/milter_stop.  e2e_down and
#           e2e_up may be called again in the same script to switch wirings.
#
# Environment read:
#   VIGIL_SRCDIR    source tree (filters/postfix/*, conf/templates)
#   VIGIL_BUILDDIR  build tree (src/cli/vigil, filters/pipe/vigil-filter,
#                   filters/milter/vigil-milter)
#   E2E_KEEP=1      keep the instance directory after e2e_down (its path is printed)
#   E2E_MAIN_CF_EXTRA  main.cf lines appended last by e2e_up (a test sets it
#                   before e2e_up to vary the instance; empty by default)
#   E2E_DNS_TXT     TXT records of the instance's DNS server, one per line,
#                   "NAME TEXT" (TEXT: the rest of the line, with no comma,
#                   double quote or backslash), read by e2e_up; or call
#                   e2e_dns_txt NAME TEXT, before e2e_up or on a running instance
#   E2E_SKIP_STATUS exit status used by e2e_require to skip (see there)
# Exported by e2e_up:
#   PFX_BASE PFX_ETC PFX_PORT PFX_RPORT PFX_LOG PFX_MAIL VIGIL_CONF E2E_MODE
#   DNS_PORT DNS_LOG
#   (milter mode also MILTER_SOCK MILTER_LOG; MILTER_PID is a shell variable)
#   VIGILD_LOG (VIGILD_PID is a shell variable, set by vigild_start)
#
# vigild.  In pipe mode a test may run vigild, the resident half of the
# pipe front-end: vigild_start starts it as the pipe user, in the
# foreground, a child of the test shell known by VIGILD_PID, with its
# stderr in VIGILD_LOG; vigild_stop (and e2e_down) stops it by PID.
#
# DNS.  vigil looks up the _dmarc TXT record of every member post's From
# domain.  The instances never ask the machine's resolver: e2e_up starts a
# private dnsmasq (package dnsmasq-base) on 127.0.0.1:DNS_PORT, a free port,
# and vigil.conf says "resolver = 127.0.0.1:DNS_PORT".  It knows only the
# TXT records of E2E_DNS_TXT and e2e_dns_txt and answers NXDOMAIN for every
# other name (--local=/#/): nothing is forwarded, no lookup waits for a
# timeout.  It is a child of the test shell, known by DNS_PID, and stopped by
# PID in e2e_down; its log (every query) is DNS_LOG.
#
# Instance layout (everything below PFX_BASE=/tmp/vigil-e2e.XXXXXX):
#   etc/      main.cf master.cf vmailbox aliases vigil_transport (+ .db)
#             (no vigil_transport in milter mode); vmailbox has every test
#             user, the list address and the list's bounce address (E2E_BOUNCE)
#   spool/    queue_directory (pid/master.pid)    data/  data_directory
#   mail/     virtual Maildirs, mail/test.example/USER/new/...
#   log/      maillog (postlogd), start.out, milter.log (vigil-milter -f stderr),
#             vigild.log (vigild -f stderr),
#             dnsmasq.log (DNS_LOG: the DNS server's queries and answers)
#   dns/      dnsmasq.conf (the records), dnsmasq.pid
#   bin/      copies of vigil-filter, vigil and vigil-milter (pipe(8) runs as
#             nobody, who may not be able to reach the build tree)
#   state/    vigil database directory, owned by nobody, 0750
#   run/      milter mode: the milter's socket directory, nobody, 0755
#   templates/ copy of conf/templates       vigil.conf
#
# Every function logs to stderr: stdout is the TAP stream.
# shellcheck shell=bash
set -u

E2E_DOMAIN=test.example
E2E_USERS="alice bob carol dave reporter reporter2 owner security"
E2E_LIST=security@test.example
E2E_BOUNCE=${E2E_LIST%@*}-bounces@${E2E_LIST#*@}   # vigil's default bounce_address
E2E_RUN_USER=nobody            # pipe(8) refuses root and mail_owner
E2E_NEED_VIGIL=1               # e2e_require --no-vigil clears it
E2E_NEED_MILTER=0              # e2e_require --milter sets it
E2E_MODE=pipe                  # e2e_up sets it: pipe or milter (e2e_up --milter)
MILTER_PID=                    # milter mode: the running vigil-milter, started by milter_start
VIGILD_PID=                    # pipe mode: the running vigild, started by vigild_start
DNS_PID=                       # the instance's dnsmasq, started by dns_start
E2E_DNS_RECORDS=()             # "NAME TEXT" records added with e2e_dns_txt
_E2E_UP=                       # set while an instance exists (e2e_down is idempotent)

e2e_log() { echo "e2e: $*" >&2; }

# ---------------------------------------------------------------- prerequisites

# e2e_skip REASON: end the test as skipped.  The plain automake driver wants
# exit 77; tap-driver.sh has no skip status (any non-zero exit is an ERROR)
# and wants the plan "1..0 # SKIP reason" instead.  We print that plan and
# exit 77, or 0 when stdout is a pipe (tap-driver.sh reads the test through a
# pipe; the plain driver redirects to a file).  E2E_SKIP_STATUS overrides.
e2e_skip() {
  local status=77
  [ -p /dev/stdout ] && status=0
  status=${E2E_SKIP_STATUS:-$status}
  echo "SKIP: $*" >&2
  echo "1..0 # SKIP $*"
  exit "$status"
}

# e2e_require [--no-vigil] [--milter]: skip the test unless we are root and
# postfix, swaks, ss and (without --no-vigil) both vigil binaries are available;
# with --milter vigil-milter must be built too.
e2e_require() {
  local a
  for a in "$@"; do
    case $a in
      --no-vigil) E2E_NEED_VIGIL=0 ;;
      --milter) E2E_NEED_MILTER=1 ;;
      *) e2e_log "e2e_require: unknown option $a"; return 1 ;;
    esac
  done
  [ "$(id -u)" = 0 ] || e2e_skip "end-to-end tests must run as root (private Postfix instance)"
  [ -x /usr/sbin/postfix ] || e2e_skip "postfix is not installed (/usr/sbin/postfix)"
  command -v swaks >/dev/null 2>&1 || e2e_skip "swaks is not installed"
  command -v ss >/dev/null 2>&1 || e2e_skip "ss (iproute2) is not installed"
  [ "$E2E_NEED_VIGIL" = 0 ] || e2e_dnsmasq >/dev/null ||
    e2e_skip "dnsmasq is not installed (package dnsmasq-base)"
  [ -n "${VIGIL_SRCDIR:-}" ] || e2e_skip "VIGIL_SRCDIR is not set"
  [ -f "$VIGIL_SRCDIR/filters/postfix/master.cf" ] ||
    e2e_skip "$VIGIL_SRCDIR/filters/postfix/master.cf not found"
  [ "$E2E_NEED_VIGIL" = 1 ] || return 0
  [ -n "${VIGIL_BUILDDIR:-}" ] || e2e_skip "VIGIL_BUILDDIR is not set"
  [ -x "$VIGIL_BUILDDIR/src/cli/vigil" ] || e2e_skip "$VIGIL_BUILDDIR/src/cli/vigil not built"
  [ -x "$VIGIL_BUILDDIR/filters/pipe/vigil-filter" ] ||
    e2e_skip "$VIGIL_BUILDDIR/filters/pipe/vigil-filter not built"
  [ "$E2E_NEED_MILTER" = 1 ] || return 0
  [ -f "$VIGIL_SRCDIR/filters/postfix/main.cf.milter" ] ||
    e2e_skip "$VIGIL_SRCDIR/filters/postfix/main.cf.milter not found"
  [ -x "$VIGIL_BUILDDIR/filters/milter/vigil-milter" ] ||
    e2e_skip "$VIGIL_BUILDDIR/filters/milter/vigil-milter not built"
}

# ------------------------------------------------------------------ processes

# e2e_alive PID: the process exists and is not a zombie (kill -0 is true for
# zombies; a daemonised master is reparented to PID 1, which may reap late).
e2e_alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$st" ] && [ "$st" != Z ]
}

# e2e_instance_pids ETC: live processes with MAIL_CONFIG=ETC in their environment.
# The master exports it and pipe(8) passes it on to its (setsid'd) children.
e2e_instance_pids() {
  local etc=$1 f pid
  for f in /proc/[0-9]*/environ; do
    pid=${f#/proc/}; pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    grep -qzxF "MAIL_CONFIG=$etc" "$f" 2>/dev/null || continue
    e2e_alive "$pid" && echo "$pid"
  done
  return 0
}

# e2e_pick_port: a port below ip_local_port_range (a port in the ephemeral
# range may be held by an outgoing connection: bind() would fail) on which
# nothing listens, neither TCP nor UDP (the DNS server takes both).
e2e_pick_port() {
  local lo p i
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
  [ "${lo:-0}" -gt 11000 ] 2>/dev/null || lo=32768
  for i in $(seq 200); do
    p=$((10000 + RANDOM % (lo - 10000)))
    [ -z "$(ss -Hltun "sport = :$p")" ] && { echo "$p"; return 0; }
  done
  e2e_log "no free port found"
  return 1
}

# e2e_wait_port PORT [SECONDS=10]: until something listens on PORT
e2e_wait_port() {
  local i
  for ((i = 0; i < ${2:-10} * 20; i++)); do
    [ -n "$(ss -Hltn "sport = :$1")" ] && return 0
    sleep 0.05
  done
  return 1
}

# ------------------------------------------------------------- configuration

# e2e_write_main_cf: main.cf of the private instance (the vigil snippet is appended later)
e2e_write_main_cf() {
  local uid gid
  uid=$(id -u "$E2E_RUN_USER"); gid=$(id -g "$E2E_RUN_USER")
  cat > "$PFX_ETC/main.cf" <<EOF
# main.cf of a private vigil e2e test instance, generated by tests/e2e/lib.sh
compatibility_level = 3.6
queue_directory = $PFX_BASE/spool
data_directory = $PFX_BASE/data
# shared, read-only Debian locations (postfix-files, dynamicmaps.cf, daemons)
meta_directory = /etc/postfix
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
command_directory = /usr/sbin
mail_owner = postfix
setgid_group = postdrop

myhostname = mx.$E2E_DOMAIN
mydomain = $E2E_DOMAIN
myorigin = \$mydomain
mydestination = localhost, \$myhostname
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
smtpd_banner = \$myhostname ESMTP vigil-e2e
biff = no
append_dot_mydomain = no

# no DNS anywhere
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_peername_lookup = no

# logging without syslog (postlogd, "postlog" service in master.cf)
maillog_file = $PFX_BASE/log/maillog
maillog_file_prefixes = $PFX_BASE

# local(8): aliases only, no passwd users
alias_maps = hash:$PFX_ETC/aliases
alias_database = hash:$PFX_ETC/aliases
local_recipient_maps = \$alias_maps
default_privs = $E2E_RUN_USER

# virtual(8) Maildirs for the test domain; the list address is a valid
# recipient here too, transport_maps (vigil snippet below) overrides delivery
virtual_mailbox_domains = $E2E_DOMAIN
virtual_mailbox_base = $PFX_BASE/mail
virtual_mailbox_maps = hash:$PFX_ETC/vmailbox
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid

# nothing leaves the machine
default_transport = error:outbound mail disabled in test instance
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination

# fast retries for tests
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 10s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
EOF
}

# e2e_write_master_cf: master.cf (chroot n everywhere: nothing to copy into the spool)
e2e_write_master_cf() {
  cat > "$PFX_ETC/master.cf" <<EOF
# master.cf of a private vigil e2e test instance, generated by tests/e2e/lib.sh
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$PFX_PORT inet n -    n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# e2e_write_maps: virtual mailboxes (every test user plus the list address) and aliases
e2e_write_maps() {
  local u
  {
    for u in $E2E_USERS postmaster; do echo "$u@$E2E_DOMAIN $E2E_DOMAIN/$u/"; done
    # a valid recipient, as filters/postfix/README (section 4) asks of the
    # list address: the transport map routes it to vigil (pipe), the milter
    # takes it off the message (milter); mail lands in this Maildir only
    # when neither did its job
    echo "$E2E_BOUNCE $E2E_DOMAIN/${E2E_BOUNCE%@*}/"
  } > "$PFX_ETC/vmailbox"
  cat > "$PFX_ETC/aliases" <<EOF
postmaster: postmaster@$E2E_DOMAIN
root: postmaster
MAILER-DAEMON: postmaster
EOF
}

# e2e_snippet FILE: print a filters/postfix/ snippet adapted to this instance.
# Only paths, ports, the pipe user and the list's addresses (the list and its
# bounce address) are substituted, so the tests exercise exactly what the
# postmaster copies.
e2e_snippet() {
  sed -e "s|/usr/local/sbin/vigil-filter|$PFX_BASE/bin/vigil-filter -c $VIGIL_CONF|g" \
      -e "s|unix:/run/vigil/milter\.sock|unix:$PFX_BASE/run/milter.sock|g" \
      -e "s|user=vigil|user=$E2E_RUN_USER|g" \
      -e "s|127\.0\.0\.1:10026|127.0.0.1:$PFX_RPORT|g" \
      -e "s|/etc/postfix/|$PFX_ETC/|g" \
      -e "s|security-bounces@example\.org|$E2E_BOUNCE|g" \
      -e "s|security@example\.org|$E2E_LIST|g" \
      "$VIGIL_SRCDIR/filters/postfix/$1"
}

# e2e_wire_vigil: append the repo's snippets to main.cf, master.cf and the
# transport map (pipe), or main.cf.milter and master.cf.milter (milter)
e2e_wire_vigil() {
  local f suffix=
  [ "$E2E_MODE" = milter ] && suffix=.milter
  for f in main.cf master.cf; do
    { echo; echo "# ---- vigil wiring: filters/postfix/$f$suffix (adapted by tests/e2e/lib.sh) ----"
      e2e_snippet "$f$suffix"; } >> "$PFX_ETC/$f"
  done
  [ "$E2E_MODE" = milter ] && return 0
  e2e_snippet vigil_transport > "$PFX_ETC/vigil_transport"
}

# e2e_install_vigil: copy the binaries and templates, write vigil.conf
e2e_install_vigil() {
  local b bins="src/cli/vigil filters/pipe/vigil-filter filters/pipe/vigil-intake filters/pipe/vigil-sender filters/pipe/vigild"
  [ "$E2E_MODE" = milter ] && bins="$bins filters/milter/vigil-milter"
  for b in $bins; do
    if [ -x "${VIGIL_BUILDDIR:-}/$b" ]; then
      install -m 755 "$VIGIL_BUILDDIR/$b" "$PFX_BASE/bin/"
    elif [ "$E2E_NEED_VIGIL" = 1 ]; then
      e2e_log "missing $VIGIL_BUILDDIR/$b"; return 1
    fi
  done
  if [ -d "$VIGIL_SRCDIR/conf/templates" ]; then
    cp -R "$VIGIL_SRCDIR/conf/templates/." "$PFX_BASE/templates/"
  fi
  chmod -R a+rX "$PFX_BASE/templates"
  cat > "$VIGIL_CONF" <<EOF
# vigil.conf of a private vigil e2e test instance, generated by tests/e2e/lib.sh
[vigil]
database = $PFX_BASE/state/vigil.db
relay = smtp://127.0.0.1:$PFX_RPORT
template_dir = $PFX_BASE/templates
${DNS_PORT:+resolver = 127.0.0.1:$DNS_PORT}

[list $E2E_LIST]
name = Example security team
owner = owner@$E2E_DOMAIN
autoreply_interval = 1d
max_message_size = 10M
EOF
  # vigil-milter is started as root and drops to this user (pipe(8) runs
  # vigil-filter as user= of master.cf instead)
  if [ "$E2E_MODE" = milter ]; then
    sed -i -e "/^\[vigil\]\$/a user = $E2E_RUN_USER" "$VIGIL_CONF"
  fi
  chmod 644 "$VIGIL_CONF"
}

# e2e_make_dirs: the instance tree with the owners and modes Postfix insists on
e2e_make_dirs() {
  mkdir -p "$PFX_ETC" "$PFX_BASE/spool" "$PFX_BASE/data" "$PFX_BASE/mail" \
           "$PFX_BASE/log" "$PFX_BASE/bin" "$PFX_BASE/state" "$PFX_BASE/templates" \
           "$PFX_BASE/dns"
  # mktemp -d is 0700: postfix and nobody must traverse every component.
  # Config and queue directories: root-owned, not group/other writable.
  chown root:root "$PFX_BASE" "$PFX_ETC" "$PFX_BASE/spool"
  chmod 755 "$PFX_BASE" "$PFX_ETC" "$PFX_BASE/spool" "$PFX_BASE/log" \
            "$PFX_BASE/bin" "$PFX_BASE/templates" "$PFX_BASE/mail" "$PFX_BASE/dns"
  # data_directory must belong to mail_owner (post-install does not fix it)
  chown postfix "$PFX_BASE/data"; chmod 700 "$PFX_BASE/data"
  chown "$E2E_RUN_USER:" "$PFX_BASE/mail" "$PFX_BASE/state"
  chmod 750 "$PFX_BASE/state"
  if [ "$E2E_MODE" = milter ]; then
    # the milter's socket directory: its user's, not writable by others
    # (vigil-milter refuses it otherwise), searchable by postfix's smtpd
    mkdir -p "$PFX_BASE/run"
    chown "$E2E_RUN_USER:" "$PFX_BASE/run"
    chmod 755 "$PFX_BASE/run"
  fi
}

# e2e_start_postfix: build the maps and start the master
e2e_start_postfix() {
  # Postfix pauses ~2 s per command while main.cf is younger than 1 s
  # ("pausing to let main.cf cool down"): backdate the files we just wrote.
  touch -d '-10 seconds' "$PFX_ETC/main.cf" "$PFX_ETC/master.cf"
  postmap -c "$PFX_ETC" "hash:$PFX_ETC/vmailbox" &&
  { [ ! -e "$PFX_ETC/vigil_transport" ] || postmap -c "$PFX_ETC" "hash:$PFX_ETC/vigil_transport"; } &&
  postalias -c "$PFX_ETC" "hash:$PFX_ETC/aliases" || return 1
  postconf -c "$PFX_ETC" -n >/dev/null || return 1     # fails loudly on typos
  # postfix start = post-install create-missing, postsuper, master -w;
  # startup errors are reported only in maillog_file
  if ! postfix -c "$PFX_ETC" start > "$PFX_BASE/log/start.out" 2>&1; then
    e2e_log "postfix start failed:"
    cat "$PFX_BASE/log/start.out" >&2
    tail -n 10 "$PFX_LOG" >&2 2>/dev/null
    return 1
  fi
  if ! e2e_wait_port "$PFX_PORT" || ! e2e_wait_port "$PFX_RPORT"; then
    e2e_log "smtpd listeners did not come up"
    return 1
  fi
}

# e2e_up [--milter|--pipe]: create, configure and start a private instance;
# see the file header.  --milter: the vigil-milter wiring (E2E_MODE=milter),
# the milter is running when e2e_up returns.
e2e_up() {
  local mode=pipe
  case ${1:-} in
    --milter) mode=milter ;;
    --pipe|'') ;;
    *) e2e_log "e2e_up: unknown option $1"; return 1 ;;
  esac
  [ -z "$_E2E_UP" ] || { e2e_log "e2e_up: instance already running at $PFX_BASE"; return 1; }
  E2E_MODE=$mode
  PFX_BASE=$(mktemp -d /tmp/vigil-e2e.XXXXXX) || return 1
  _E2E_UP=1
  trap e2e_down EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  PFX_ETC=$PFX_BASE/etc
  PFX_LOG=$PFX_BASE/log/maillog
  PFX_MAIL=$PFX_BASE/mail/$E2E_DOMAIN
  VIGIL_CONF=$PFX_BASE/vigil.conf
  PFX_PORT=$(e2e_pick_port) || return 1
  PFX_RPORT=$(e2e_pick_port) || return 1
  while [ "$PFX_RPORT" = "$PFX_PORT" ]; do PFX_RPORT=$(e2e_pick_port) || return 1; done
  export PFX_BASE PFX_ETC PFX_PORT PFX_RPORT PFX_LOG PFX_MAIL VIGIL_CONF E2E_MODE
  DNS_PORT='' DNS_PID=''
  DNS_LOG=$PFX_BASE/log/dnsmasq.log
  export DNS_PORT DNS_LOG
  MILTER_SOCK='' MILTER_LOG='' MILTER_PID=''
  VIGILD_PID=''
  VIGILD_LOG=$PFX_BASE/log/vigild.log
  export VIGILD_LOG
  if [ "$E2E_MODE" = milter ]; then
    MILTER_SOCK=$PFX_BASE/run/milter.sock
    MILTER_LOG=$PFX_BASE/log/milter.log
    export MILTER_SOCK MILTER_LOG
  fi

  e2e_make_dirs || return 1
  # the DNS server first: vigil.conf names its port
  if e2e_dnsmasq >/dev/null; then
    dns_start || return 1
  elif [ "$E2E_NEED_VIGIL" = 1 ]; then
    e2e_log "dnsmasq is not installed (package dnsmasq-base)"; return 1
  else
    e2e_log "no dnsmasq: vigil.conf names no resolver"
  fi
  e2e_write_main_cf
  e2e_write_master_cf
  e2e_write_maps
  e2e_install_vigil || return 1
  e2e_wire_vigil
  if [ -n "${E2E_MAIN_CF_EXTRA:-}" ]; then
    printf '\n# ---- E2E_MAIN_CF_EXTRA (set by the test) ----\n%s\n' "$E2E_MAIN_CF_EXTRA" >> "$PFX_ETC/main.cf"
  fi
  if [ "$E2E_MODE" = milter ]; then
    milter_start || return 1
  fi
  e2e_start_postfix || return 1
  e2e_log "up ($E2E_MODE): base $PFX_BASE, smtpd 127.0.0.1:$PFX_PORT," \
          "re-injection 127.0.0.1:$PFX_RPORT, master pid $(e2e_master_pid)" \
          "${DNS_PID:+, dns 127.0.0.1:$DNS_PORT pid $DNS_PID}${MILTER_PID:+, milter pid $MILTER_PID}"
}

# ------------------------------------------------------------------- milter

# The milter is a child of the test shell, known by its PID only.  Call
# milter_start and milter_stop directly, not through ok() or $(...): a
# subshell would lose MILTER_PID and could not wait for the child.

# e2e_milter_listening: something listens on MILTER_SOCK (a socket file left
# by a milter that is gone does not count)
e2e_milter_listening() {
  [ -S "$MILTER_SOCK" ] && [ -n "$(ss -Hxl src "$MILTER_SOCK" 2>/dev/null)" ]
}

# milter_start: start vigil-milter as root in the foreground
# mode (-f), in the background of this shell, with the instance's vigil.conf
# (read again at every start) and socket; MILTER_PID is its PID.  Its stderr
# goes to MILTER_LOG.  Waits (10 s at most) until it listens; fails if it
# exits first.
milter_start() {
  local t=10 i
  [ "$E2E_MODE" = milter ] || { e2e_log "milter_start: not a milter instance"; return 1; }
  [ "$BASHPID" = "$$" ] || { e2e_log "milter_start: called in a subshell (ok, \$(...))"; return 1; }
  if [ -n "$MILTER_PID" ] && e2e_alive "$MILTER_PID"; then
    e2e_log "milter_start: vigil-milter already running (pid $MILTER_PID)"; return 1
  fi
  echo "---- e2e: milter_start $(date -u +%FT%T.%N)" >> "$MILTER_LOG"
  "$PFX_BASE/bin/vigil-milter" -f -c "$VIGIL_CONF" -p "unix:$MILTER_SOCK" \
    < /dev/null >> "$MILTER_LOG" 2>&1 &
  MILTER_PID=$!
  for ((i = 0; i < t * 20; i++)); do
    e2e_milter_listening && return 0
    if ! e2e_alive "$MILTER_PID"; then
      wait "$MILTER_PID" 2>/dev/null
      e2e_log "vigil-milter exited (status $?) before listening on $MILTER_SOCK:"
      tail -n 10 "$MILTER_LOG" >&2
      MILTER_PID=
      return 1
    fi
    sleep 0.05
  done
  e2e_log "vigil-milter (pid $MILTER_PID) does not listen on $MILTER_SOCK after $t s"
  tail -n 10 "$MILTER_LOG" >&2
  return 1
}

# milter_stop: SIGTERM to our vigil-milter (by PID), wait for it (SIGKILL
# after 5 s).  Sets MILTER_STOP_MS (how long it took to exit) and
# MILTER_EXIT (its exit status; 128+N for a signal N).
milter_stop() {
  local pid=$MILTER_PID t0 i
  MILTER_STOP_MS=
  MILTER_EXIT=
  [ -n "$pid" ] || return 0
  [ "$BASHPID" = "$$" ] || { e2e_log "milter_stop: called in a subshell (ok, \$(...))"; return 1; }
  MILTER_PID=
  t0=$(date +%s%N)
  if e2e_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 250; i++)); do e2e_alive "$pid" || break; sleep 0.02; done
    if e2e_alive "$pid"; then
      e2e_log "vigil-milter $pid still alive 5 s after SIGTERM, killing it"
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  wait "$pid" 2>/dev/null
  MILTER_EXIT=$?
  MILTER_STOP_MS=$((($(date +%s%N) - t0) / 1000000))
  echo "---- e2e: milter_stop: pid $pid exit status $MILTER_EXIT after $MILTER_STOP_MS ms" >> "$MILTER_LOG"
  return 0
}

# ------------------------------------------------------------------- vigild

# vigild is a child of the test shell too, known by VIGILD_PID: call
# vigild_start and vigild_stop directly, not through ok() or $(...).

# vigild_start: vigild -f as the pipe user (as filters/systemd/vigild.service
# runs it), a child of this shell, with the instance's vigil.conf; VIGILD_PID
# is its PID, its stderr goes to VIGILD_LOG.  Waits (10 s at most) for its
# socket in the database's directory; fails if it exits first.
vigild_start() {
  local sock=$PFX_BASE/state/vigild.sock i
  [ "$BASHPID" = "$$" ] || { e2e_log "vigild_start: called in a subshell (ok, \$(...))"; return 1; }
  if [ -n "$VIGILD_PID" ] && e2e_alive "$VIGILD_PID"; then
    e2e_log "vigild_start: vigild already running (pid $VIGILD_PID)"; return 1
  fi
  setpriv --reuid="$E2E_RUN_USER" --regid="$(id -g "$E2E_RUN_USER")" --clear-groups \
    "$PFX_BASE/bin/vigild" -f -c "$VIGIL_CONF" < /dev/null >> "$VIGILD_LOG" 2>&1 &
  VIGILD_PID=$!
  for ((i = 0; i < 200; i++)); do
    [ -S "$sock" ] && [ -n "$(ss -Hxl src "$sock" 2>/dev/null)" ] && return 0
    e2e_alive "$VIGILD_PID" || break
    sleep 0.05
  done
  e2e_log "vigild did not start:"; tail -n 5 "$VIGILD_LOG" >&2
  return 1
}

# vigild_stop: SIGTERM to our vigild (by PID), wait for it (SIGKILL after
# 10 s); VIGILD_EXIT is its status (128+N for a signal N).  Keeps $?.
vigild_stop() {
  local rc=$? i
  VIGILD_EXIT=
  [ -n "$VIGILD_PID" ] || return "$rc"
  [ "$BASHPID" = "$$" ] || { e2e_log "vigild_stop: called in a subshell (ok, \$(...))"; return "$rc"; }
  kill -TERM "$VIGILD_PID" 2>/dev/null
  for ((i = 0; i < 200; i++)); do e2e_alive "$VIGILD_PID" || break; sleep 0.05; done
  e2e_alive "$VIGILD_PID" && kill -KILL "$VIGILD_PID" 2>/dev/null
  wait "$VIGILD_PID" 2>/dev/null
  VIGILD_EXIT=$?
  VIGILD_PID=
  return "$rc"
}

# ---------------------------------------------------------------------- DNS

# The DNS server is a child of the test shell, known by its PID only, like
# the milter: call dns_start, dns_stop and e2e_dns_txt (on a running
# instance) directly, not through ok() or $(...).

# e2e_dnsmasq: the dnsmasq binary (dnsmasq-base installs it in /usr/sbin,
# which may not be in a test's PATH)
e2e_dnsmasq() {
  local d
  for d in "$(command -v dnsmasq 2>/dev/null)" /usr/sbin/dnsmasq /sbin/dnsmasq; do
    [ -n "$d" ] && [ -x "$d" ] && { echo "$d"; return 0; }
  done
  return 1
}

# e2e_dns_txt NAME TEXT: a TXT record of the instance's DNS server, e.g.
#   e2e_dns_txt _dmarc.reject.example "v=DMARC1; p=reject"
# Before e2e_up it is kept for every instance the script starts; on a
# running instance the server is restarted with it (same port).  dnsmasq
# splits a TXT value at commas into several strings, so TEXT may not hold
# one; nor a double quote, a backslash or a line end.
e2e_dns_txt() {
  local name=$1 text=${2-}
  if [ "$#" != 2 ] || [ -z "$name" ] || [[ $name == *[!A-Za-z0-9._-]* ]]; then
    e2e_log "e2e_dns_txt: want NAME TEXT, a name of letters, digits, '.', '-' and '_' (got: $*)"
    return 1
  fi
  if [[ $text == *[,\"\\]* ]] || [[ $text == *$'\n'* ]]; then
    e2e_log "e2e_dns_txt: TEXT may not hold a comma, a double quote, a backslash or a line end: $text"
    return 1
  fi
  E2E_DNS_RECORDS+=("$name $text")
  [ -n "$DNS_PID" ] || return 0
  [ "$BASHPID" = "$$" ] || { e2e_log "e2e_dns_txt: called in a subshell (ok, \$(...))"; return 1; }
  dns_stop && dns_start
}

# e2e_dns_records: every record, "NAME TEXT" per line: E2E_DNS_TXT, then
# those of e2e_dns_txt (the same checks apply to both)
e2e_dns_records() {
  local line
  while IFS= read -r line; do
    line=${line#"${line%%[! ]*}"}
    [ -n "$line" ] && echo "$line"
  done <<<"${E2E_DNS_TXT:-}"
  [ "${#E2E_DNS_RECORDS[@]}" = 0 ] || printf '%s\n' "${E2E_DNS_RECORDS[@]}"
}

# e2e_write_dns_conf: PFX_BASE/dns/dnsmasq.conf, the server's only
# configuration (it replaces /etc/dnsmasq.conf): loopback only, nothing from
# /etc/hosts or /etc/resolv.conf, NXDOMAIN for every name it has no record of
e2e_write_dns_conf() {
  local line name text
  {
    echo "# dnsmasq.conf of a private vigil e2e test instance, generated by tests/e2e/lib.sh"
    echo "port=$DNS_PORT"
    echo "listen-address=127.0.0.1"
    echo "bind-interfaces"
    echo "no-resolv"
    echo "no-hosts"
    echo "no-poll"
    echo "local=/#/"
    echo "pid-file=$PFX_BASE/dns/dnsmasq.pid"
    echo "log-facility=$DNS_LOG"
    echo "log-queries"
    while IFS= read -r line; do
      name=${line%% *}
      text=${line#"$name"}; text=${text# }
      if [ -z "$name" ] || [[ $name == *[!A-Za-z0-9._-]* ]] ||
         [[ $text == *[,\"\\]* ]]; then
        e2e_log "bad DNS record (want NAME TEXT, no comma, quote or backslash in TEXT): $line"
        return 1
      fi
      echo "txt-record=$name,\"$text\""
    done < <(e2e_dns_records)
  } > "$PFX_BASE/dns/dnsmasq.conf"
}

# dns_start: start dnsmasq in the foreground (--keep-in-foreground), in the
# background of this shell, on a free port (DNS_PORT; kept when it is set
# already, as on a restart); DNS_PID is its PID.  MAIL_CONFIG=PFX_ETC in its
# environment lets e2e_kill_leftovers find it too.  Waits (10 s at most)
# until it listens; fails if it exits first.
dns_start() {
  local dnsmasq i try keep=${DNS_PORT:-}
  [ "$BASHPID" = "$$" ] || { e2e_log "dns_start: called in a subshell (ok, \$(...))"; return 1; }
  dnsmasq=$(e2e_dnsmasq) || { e2e_log "dns_start: dnsmasq is not installed (dnsmasq-base)"; return 1; }
  if [ -n "$DNS_PID" ] && e2e_alive "$DNS_PID"; then
    e2e_log "dns_start: dnsmasq already running (pid $DNS_PID)"; return 1
  fi
  for try in 1 2 3; do
    DNS_PORT=$keep
    # PFX_PORT and PFX_RPORT are picked before Postfix listens on them
    while [ -z "$DNS_PORT" ] || [ "$DNS_PORT" = "${PFX_PORT:-}" ] || [ "$DNS_PORT" = "${PFX_RPORT:-}" ]; do
      DNS_PORT=$(e2e_pick_port) || return 1
    done
    e2e_write_dns_conf || return 1
    echo "---- e2e: dns_start $(date -u +%FT%T.%N) port $DNS_PORT" >> "$PFX_BASE/log/dnsmasq.out"
    MAIL_CONFIG=$PFX_ETC "$dnsmasq" --keep-in-foreground --conf-file="$PFX_BASE/dns/dnsmasq.conf" \
      < /dev/null >> "$PFX_BASE/log/dnsmasq.out" 2>&1 &
    DNS_PID=$!
    for ((i = 0; i < 200; i++)); do
      e2e_alive "$DNS_PID" || break
      # UDP and TCP sockets are both bound before it serves
      [ -n "$(ss -Hltn "sport = :$DNS_PORT" src 127.0.0.1)" ] &&
        [ -n "$(ss -Hlun "sport = :$DNS_PORT" src 127.0.0.1)" ] && return 0
      sleep 0.05
    done
    if e2e_alive "$DNS_PID"; then
      e2e_log "dnsmasq (pid $DNS_PID) does not listen on 127.0.0.1:$DNS_PORT after 10 s"
      dns_stop
      return 1
    fi
    wait "$DNS_PID" 2>/dev/null
    e2e_log "dnsmasq exited (status $?) before listening on 127.0.0.1:$DNS_PORT (try $try):"
    tail -n 5 "$PFX_BASE/log/dnsmasq.out" >&2
    DNS_PID=
    [ -z "$keep" ] || return 1      # a restart keeps its port or fails
  done
  return 1
}

# dns_stop: SIGTERM to our dnsmasq (by PID), wait for it (SIGKILL after 5 s)
dns_stop() {
  local pid=$DNS_PID i
  [ -n "$pid" ] || return 0
  [ "$BASHPID" = "$$" ] || { e2e_log "dns_stop: called in a subshell (ok, \$(...))"; return 1; }
  DNS_PID=
  if e2e_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 250; i++)); do e2e_alive "$pid" || break; sleep 0.02; done
    if e2e_alive "$pid"; then
      e2e_log "dnsmasq $pid still alive 5 s after SIGTERM, killing it"
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  wait "$pid" 2>/dev/null
  return 0
}

# dns_queries NAME: how many times the DNS server was asked for NAME
dns_queries() {
  local n
  n=$(grep -cE "query\[[A-Z]+\] $(sed 's/[.]/[.]/g' <<<"$1") from " "$DNS_LOG" 2>/dev/null)
  echo "${n:-0}"
}

# e2e_master_pid: the instance's master PID (empty if none)
e2e_master_pid() {
  awk '{print $1; exit}' "$PFX_BASE/spool/pid/master.pid" 2>/dev/null
}

# e2e_stop_master: SIGTERM to our master only (same as "postfix stop", which
# TERMs the process group, but polling every 50 ms instead of whole seconds)
e2e_stop_master() {
  local pid i
  pid=$(e2e_master_pid)
  [ -n "$pid" ] && e2e_alive "$pid" || return 0
  grep -qzxF "MAIL_CONFIG=$PFX_ETC" "/proc/$pid/environ" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 200; i++)); do e2e_alive "$pid" || return 0; sleep 0.05; done
  e2e_log "master $pid still alive after 10 s, killing its process group"
  kill -KILL -- "-$pid" 2>/dev/null
  return 0
}

# e2e_kill_leftovers: pipe(8) starts each command in its own session, so the
# master's process-group SIGTERM misses running filters; find them by
# MAIL_CONFIG and stop them by PID (TERM, then KILL)
e2e_kill_leftovers() {
  local left i
  for ((i = 0; i < 5; i++)); do
    left=$(e2e_instance_pids "$PFX_ETC")
    [ -z "$left" ] && return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  e2e_log "terminating leftover pids:" $left
  # shellcheck disable=SC2086
  kill -TERM $left 2>/dev/null
  sleep 0.5
  left=$(e2e_instance_pids "$PFX_ETC")
  # shellcheck disable=SC2086
  [ -z "$left" ] || kill -KILL $left 2>/dev/null
  return 0
}

# e2e_down: stop the instance, kill its leftovers, remove PFX_BASE (kept and
# printed with E2E_KEEP=1).  Idempotent; keeps the caller's exit status.
e2e_down() {
  local rc=$?
  [ -n "$_E2E_UP" ] || return "$rc"
  _E2E_UP=
  trap '' PIPE                     # finish even if our output reader is gone
  if [ "${TAP_FAILED:-0}" -gt 0 ] && [ -f "$PFX_LOG" ]; then
    e2e_log "maillog tail (failures above):"
    tail -n 40 "$PFX_LOG" | sed 's/^/#   /' >&2
  fi
  if [ "${TAP_FAILED:-0}" -gt 0 ] && [ -s "${MILTER_LOG:-}" ]; then
    e2e_log "milter log tail (failures above):"
    tail -n 20 "$MILTER_LOG" | sed 's/^/#   /' >&2
  fi
  e2e_stop_master
  milter_stop
  vigild_stop
  dns_stop
  e2e_kill_leftovers
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    e2e_log "kept instance directory: $PFX_BASE"
  else
    case $PFX_BASE in
      /tmp/vigil-e2e.*) rm -rf "$PFX_BASE" ;;
      *) e2e_log "refusing to remove $PFX_BASE" ;;
    esac
  fi
  trap - PIPE
  return "$rc"
}

# ----------------------------------------------------------------- vigil CLI

# vigil_cli ARGS...: the vigil CLI on this instance's configuration.  As root
# it switches to the owner of the database directory (nobody) by itself.
vigil_cli() {
  "$PFX_BASE/bin/vigil" -c "$VIGIL_CONF" "$@"
}

# ------------------------------------------------------------------- sending

# e2e_swaks FROM TO [swaks args...]: one SMTP transaction with the public smtpd;
# prints the queue id, or logs the server's last reply and returns 1.
# FROM '<>' (or '') is the null sender: swaks sends "MAIL FROM:<>" for '<>'
# (for '' it would use its default sender root@HOSTNAME); its generated From:
# header is then empty, so use send_file for realistic bounces.
e2e_swaks() {
  local from=$1 to=$2 out qid
  shift 2
  [ -n "$from" ] || from='<>'
  out=$(swaks --server 127.0.0.1 --port "$PFX_PORT" --helo client.test \
              --from "$from" --to "$to" --timeout 30 "$@" 2>&1)
  qid=$(sed -n 's/.* queued as \([0-9A-Za-z]*\).*/\1/p' <<<"$out" | tail -n 1)
  if [ -n "$qid" ]; then echo "$qid"; return 0; fi
  e2e_log "message from <$from> to <$to> not accepted:"
  grep -E '^(<\*\*|\*\*\*|<-)' <<<"$out" | tail -n 3 >&2
  return 1
}

# send_mail FROM TO SUBJECT [swaks args...]: TO may be "a@x,b@x"
send_mail() {
  local from=$1 to=$2 subject=$3
  shift 3
  e2e_swaks "$from" "$to" --header "Subject: $subject" --body "Body of: $subject" "$@"
}

# send_file FROM TO FILE: send FILE (a complete RFC 5322 message) as DATA
# (swaks still replaces %TOKENS% and adds the final dot)
send_file() {
  e2e_swaks "$1" "$2" --data "@$3"
}

# --------------------------------------------------------------- mailboxes

# maildir_files USER: the delivered messages (new/), oldest first
maildir_files() {
  local f
  for f in "$PFX_MAIL/$1"/new/*; do [ -f "$f" ] && echo "$f"; done
  return 0
}

# maildir_count USER: number of delivered messages
maildir_count() {
  maildir_files "$1" | wc -l
}

# wait_delivered USER N [SECONDS=30]: until USER has at least N messages
wait_delivered() {
  local user=$1 n=$2 t=${3:-30} i
  for ((i = 0; i < t * 10; i++)); do
    [ "$(maildir_count "$user")" -ge "$n" ] && return 0
    sleep 0.1
  done
  e2e_log "wait_delivered: $user has $(maildir_count "$user") message(s), wanted $n"
  return 1
}

# ---------------------------------------------------------------- queue/log

# queue_count: messages in incoming, active, deferred and maildrop (not hold)
queue_count() {
  local q=$PFX_BASE/spool
  find "$q/incoming" "$q/active" "$q/deferred" "$q/maildrop" -type f 2>/dev/null | wc -l
}

# wait_queue_empty [SECONDS=60]: until queue_count is 0.  A deferred message
# keeps it waiting until it is retried (queue_run_delay 2 s here) or times out.
wait_queue_empty() {
  local t=${1:-60} i
  for ((i = 0; i < t * 20; i++)); do
    [ "$(queue_count)" = 0 ] && return 0
    sleep 0.05
  done
  e2e_log "wait_queue_empty: $(queue_count) message(s) still queued"
  return 1
}

# queue_flush: retry every deferred message now
queue_flush() {
  postqueue -c "$PFX_ETC" -f
}

# wait_log REGEX [SECONDS=20]: until grep -E REGEX matches in the maillog;
# prints the matching lines
wait_log() {
  local re=$1 t=${2:-20} i
  for ((i = 0; i < t * 10; i++)); do
    grep -E -- "$re" "$PFX_LOG" 2>/dev/null && return 0
    sleep 0.1
  done
  e2e_log "wait_log: no line matching /$re/ in the maillog"
  return 1
}

# --------------------------------------------------------------------- TAP

TAP_N=0
TAP_FAILED=0

# diag TEXT...: a TAP diagnostic line
diag() {
  echo "# $*"
}

# ok DESCRIPTION COMMAND [ARGS...]: run COMMAND (in a subshell: it cannot set
# variables) and print "ok N - DESCRIPTION" or "not ok N - DESCRIPTION"
# followed by the command's output as "# " diagnostics
ok() {
  local desc=$1 out rc
  shift
  TAP_N=$((TAP_N + 1))
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" = 0 ]; then
    echo "ok $TAP_N - $desc"
  else
    TAP_FAILED=$((TAP_FAILED + 1))
    echo "not ok $TAP_N - $desc"
    echo "# command failed (status $rc): $*"
    [ -z "$out" ] || sed 's/^/#   /' <<<"$out"
  fi
  return "$rc"
}

# is DESCRIPTION GOT EXPECTED: ok if the two strings are equal
is() {
  local desc=$1 got=$2 want=$3
  ok "$desc" _tap_is "$got" "$want"
}
_tap_is() {
  [ "$1" = "$2" ] && return 0
  echo "got:      '$1'"
  echo "expected: '$2'"
  return 1
}

# tap_done: print the plan (TAP allows it last); non-zero if anything failed
tap_done() {
  echo "1..$TAP_N"
  if [ "$TAP_FAILED" -gt 0 ]; then
    diag "$TAP_FAILED of $TAP_N failed"
    return 1
  fi
  return 0
}
