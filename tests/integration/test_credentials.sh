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

# The real users were never disturbed.
expect "still serving" "$(mcj apply --targets 0 square 7)" "[49]"
expect "over TCP too" "$(MCCLUSTER_TRANSPORT=tcp "$BIN/mcclient" --json apply square 8)" "64"
finish
