#!/bin/bash
# What a peer says when its connection file is missing, unsafe, of the
# wrong role, or holds credentials the controller turns down: one line
# naming the file, a non-zero exit within 2 s, never a hang.
. "$(dirname "$0")/lib.sh"
start_cluster 1

# check_peer DESCRIPTION STATUS REGEX COMMAND...: COMMAND exits with STATUS
# ("nonzero": anything but 0) within 2 s, printing one line on stderr that
# matches REGEX.
check_peer () {
    local desc=$1 want=$2 pattern=$3; shift 3
    local err rc t0 ms
    t0=$(date +%s%N)
    err=$(timeout 10 "$@" 2>&1 >/dev/null); rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    if [ "$want" == nonzero ] && [ $rc -ne 0 ] && [ $rc -ne 124 ] || [ "$rc" == "$want" ]; then :
    else fail "$desc: exit status $rc"; return; fi
    [ "$(echo "$err" | wc -l)" -eq 1 ] || { fail "$desc: not one line: '$err'"; return; }
    [[ "$err" =~ $pattern ]] || { fail "$desc: '$err' does not match /$pattern/"; return; }
    [ $ms -le 2000 ] || { fail "$desc: took $ms ms"; return; }
    pass "$desc ($ms ms)"
}

# field FILE NAME: a string field of a connection file.
field () { grep -o "\"$2\": \"[^\"]*\"" "$1" | cut -d'"' -f4; }

client="$MCCLUSTER_DIR/client.json"
engine="$MCCLUSTER_DIR/engine.json"
url=$(field "$client" url)
eurl=$(field "$engine" url)
server_key=$(field "$client" server_key)
engine_public=$(field "$engine" public_key)
engine_secret=$(field "$engine" secret_key)
client_public=$(field "$client" public_key)
client_secret=$(field "$client" secret_key)
[ ${#server_key} -eq 40 ] && [ ${#engine_public} -eq 40 ] && [ ${#client_public} -eq 40 ] \
    && pass "role files hold Z85 keys" || fail "keys missing from the role files"

# other_profile TEXT: a private profile directory whose client.json is TEXT
# (mode 0600); prints its path.
other_profile () {
    local dir
    dir=$(mktemp -d "$MCCLUSTER_DIR/other.XXXXXX")
    (umask 077; printf '%s\n' "$1" > "$dir/client.json")
    echo "$dir"
}
text=$(cat "$client")

# No client.json.
empty=$(mktemp -d "$MCCLUSTER_DIR/empty.XXXXXX")
check_peer "no client.json" 1 "no connection file $empty/client.json" \
    env MCCLUSTER_DIR="$empty" "$BIN/mcclient" ids

# A secret others can read.
chmod 0644 "$client"
check_peer "client.json at 0644" 1 "$client holds a secret key and is .* \(mode 0644\): refused" "$BIN/mcclient" ids
chmod 0600 "$client"

# The wrong role: engine.json handed to a client.
check_peer "engine.json as the client's file" 1 '\$MCCLUSTER_CLIENT: a connection file for engines, not for clients' \
    env MCCLUSTER_CLIENT="$(cat "$engine")" "$BIN/mcclient" ids

# Another valid key as the server's: a stale file.
dir=$(other_profile "${text/"$server_key"/"$engine_public"}")
check_peer "wrong server_key" 1 \
    "handshake with $url failed: the server_key in $dir/client.json does not match this controller \(a stale file\?\)" \
    env MCCLUSTER_DIR="$dir" MCCLUSTER_TRANSPORT=tcp "$BIN/mcclient" ids

# A key the controller does not trust (the engine's keypair on the client endpoint).
swapped=${text/"$client_public"/"$engine_public"}
dir=$(other_profile "${swapped/"$client_secret"/"$engine_secret"}")
check_peer "untrusted client key" 1 \
    "the controller at $url refused the credentials in $dir/client.json: key not trusted, or revoked" \
    env MCCLUSTER_DIR="$dir" MCCLUSTER_TRANSPORT=tcp "$BIN/mcclient" ids

# No CURVE against a controller that wants it.
insecure=$(printf '{"version":2,"role":"client","cluster_id":"%s","host":"%s","pid":%s,"url":"%s","security":"none"}' \
    "$(field "$client" cluster_id)" "$(hostname)" "$CTRL_PID" "$url")
dir=$(other_profile "$insecure")
check_peer "security none against curve" 1 "security mismatch with the controller at $url: $dir/client.json says none" \
    env MCCLUSTER_DIR="$dir" MCCLUSTER_TRANSPORT=tcp "$BIN/mcclient" ids

# An engine whose key the controller refuses (the client's keypair on the
# engine endpoint) stops with status 3 instead of retrying.
etext=$(cat "$engine")
swapped=${etext/"$engine_public"/"$client_public"}
check_peer "refused engine exits 3" 3 \
    "^mcengine: the controller at $eurl refused the credentials in \\\$MCCLUSTER_ENGINE \(key not trusted, or revoked\)$" \
    env MCCLUSTER_ENGINE="${swapped/"$engine_secret"/"$client_secret"}" "$BIN/mcengine" --tcp

# Revocation reaches the peers holding the key.
call () { "$BIN/mcclient" --json trust "$@"; }
added=$(call add --engine --name peer-e1 -o "$MCCLUSTER_DIR/e1.json")
expect_match "trust add engine" "$added" '"name":"peer-e1"'
expect "trust add: no secret on stdout" "$(echo "$added" | grep -c secret_key)" "0"
expect "trust add -o: file private" "$(stat -c %a "$MCCLUSTER_DIR/e1.json")" "600"
"$BIN/mcengine" --file "$MCCLUSTER_DIR/e1.json" > "$MCCLUSTER_DIR/e1.log" 2>&1 &
e1=$!
PIDS+=("$e1")
wait_for 10 ids_are "[0,1]" && pass "added engine key registers over TCP" || fail "added engine missing: $(mcj ids)"
expect_match "revoke engine" "$(call revoke peer-e1)" '"dropped":1'
wait_for 5 bash -c "! kill -0 $e1 2>/dev/null" && pass "revoked engine exits" || fail "revoked engine still running"
wait "$e1"; rc=$?
expect "revoked engine exit status" "$rc" "3"
expect_match "revoked engine says why" "$(cat "$MCCLUSTER_DIR/e1.log")" \
    "mcengine: the controller at tcp://[^ ]+ refused the credentials in $MCCLUSTER_DIR/e1.json \(key not trusted, or revoked\)"
expect "revoked engine: one line" "$(wc -l < "$MCCLUSTER_DIR/e1.log")" "1"
wait_for 5 ids_are "[0]" && pass "revoked engine forgotten" || fail "ids after revoke: $(mcj ids)"

# A client waiting for a reply learns of its revocation within about a
# second, instead of waiting for a reply that will not come.
call add --client --name peer-c1 -o "$MCCLUSTER_DIR/c1.json" > /dev/null
MCCLUSTER_CLIENT="$(cat "$MCCLUSTER_DIR/c1.json")" "$BIN/mcclient" apply --targets 0 sleep 4000 \
    > /dev/null 2> "$MCCLUSTER_DIR/c1.err" &
c1=$!
PIDS+=("$c1")
sleep 0.5
t0=$(date +%s%N)
expect_match "revoke client" "$(call revoke peer-c1)" '"dropped":1'
wait "$c1"; rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect "revoked client exit status" "$rc" "1"
expect "revoked client: one line" "$(wc -l < "$MCCLUSTER_DIR/c1.err")" "1"
[ $ms -le 2500 ] && pass "revoked client stopped waiting ($ms ms)" || fail "revoked client waited $ms ms"
expect_match "revoked client says why" "$(cat "$MCCLUSTER_DIR/c1.err")" \
    "^mcclient: the controller at tcp://[^ ]+ refused the credentials in \\\$MCCLUSTER_CLIENT: key not trusted, or revoked$"

# The real users were never disturbed.
expect "still serving" "$(mcj apply --targets 0 square 7)" "[49]"
expect "over TCP too" "$(MCCLUSTER_TRANSPORT=tcp "$BIN/mcclient" --json apply square 8)" "64"
finish
