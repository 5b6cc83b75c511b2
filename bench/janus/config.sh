#!/usr/bin/env bash
# Writes a minimal Janus 1.1.x configuration folder for load runs and prints nothing.
#
#   bench/janus/config.sh DIR [HTTP_PORT] [RTP_PORTS]
#
# Only the HTTP transport (127.0.0.1:HTTP_PORT, default 8088, base path /janus) and the
# AudioBridge plugin are loaded; no event handlers, no loggers, no admin API, log level 2
# (errors and warnings). The AudioBridge binds plain-RTP participant ports from RTP_PORTS
# (default 40000-59999); rooms are created over the API by `konferenz-load janus`. Start
# Janus in the foreground with
#
#   janus -F DIR -C DIR/janus.jcfg -N --log-stdout -o
#
# (the Debian package's /etc/janus is not touched). RNNoise denoising is off by default in
# the AudioBridge; the load tool creates rooms with audiolevel_ext false and no recording.
set -euo pipefail
DIR=${1:?config dir}
HTTP_PORT=${2:-8088}
RTP_PORTS=${3:-40000-59999}
LIB=/usr/lib/x86_64-linux-gnu/janus
mkdir -p "$DIR"

# Disable everything in the plugin/transport folders except what we need.
others() { # folder keep → comma-separated .so names to disable
  find "$LIB/$1" -maxdepth 1 -name 'libjanus_*.so' -printf '%f\n' | grep -vx "$2" | paste -sd, -
}
cat > "$DIR/janus.jcfg" <<CFG
general: {
	configs_folder = "$DIR"
	plugins_folder = "$LIB/plugins"
	transports_folder = "$LIB/transports"
	events_folder = "$LIB/events"
	loggers_folder = "$LIB/loggers"
	debug_level = 2
	session_timeout = 120
	server_name = "konferenz-bench"
}
media: {
	rtp_port_range = "$RTP_PORTS"
}
nat: {
	ice_ignore_list = "vmnet"
}
plugins: {
	disable = "$(others plugins libjanus_audiobridge.so)"
}
transports: {
	disable = "$(others transports libjanus_http.so)"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
events: {
	broadcast = false
}
CFG

cat > "$DIR/janus.transport.http.jcfg" <<CFG
general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = $HTTP_PORT
	ip = "127.0.0.1"
	https = false
	threads = "unlimited"
}
admin: {
	admin_http = false
	admin_https = false
}
CFG

cat > "$DIR/janus.plugin.audiobridge.jcfg" <<CFG
general: {
	rtp_port_range = "$RTP_PORTS"
	local_ip = "127.0.0.1"
}
CFG
