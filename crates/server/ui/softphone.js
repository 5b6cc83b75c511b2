// softphone.js — the browser as a phone: the microphone, one WebRTC call into a room, levels, devices, reconnecting.
import { csrfToken } from '/ui/api.js';

const WATCH_MS = 1000;             // the watchdog's period (pc.close() fires no events)
const DISCONNECTED_MS = 2000;      // "disconnected" for longer than this counts as lost
const CONNECT_MS = 12000;          // an answered offer must connect within this
const JOIN_TIMEOUT_MS = 15000;     // the server must answer an offer within this
const RETRY_MS = 1000;             // between two attempts to reconnect
const GIVE_UP_MS = 60000;          // reconnecting for longer than this: failed
const LEVEL_MS = 100;              // the meters' update period (10 Hz)
const FLOOR_DB = -60;              // the meters' bottom; 0 dBFS is the top
const ACTIVE = new Set(['starting', 'connected', 'reconnecting']);

/** True where the speaker can be chosen (HTMLMediaElement.setSinkId). */
export const canChooseOutput = () => typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;

/** getUserMedia's error → 'mic-denied' | 'mic-missing' | 'mic-busy'. */
function micError(e) {
  switch (e && e.name) {
    case 'NotAllowedError': case 'SecurityError': case 'PermissionDeniedError': return 'mic-denied';
    case 'NotFoundError': case 'OverconstrainedError': case 'DevicesNotFoundError': return 'mic-missing';
    default: return 'mic-busy';
  }
}

/** An RMS value (0..1) on the meters' scale: -60 dBFS and below → 0, 0 dBFS → 1. */
function meter(rms) {
  if (!(rms > 0)) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db - FLOOR_DB) / -FLOOR_DB));
}

/** Rejects with a network-like error ({status: 0}) when `promise` takes longer than `ms`. */
function timeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { status: 0, code: 'timeout' })), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
  });
}

/**
 * One browser call. The page supplies the signalling:
 *   join(sdp, call) → {call, sdp}   posts an offer (with the call id when reconnecting) and resolves the answer
 *   leave(call)                     ends the call on the server
 *   leaveUrl(call)                  the DELETE address, sent with keepalive when the tab closes
 *   onChange(kind)                  kind: 'state' (state, error, mute), 'level' (meters), 'devices' (device lists)
 *
 * state: 'idle' | 'starting' | 'connected' | 'reconnecting' | 'failed' | 'ended'
 * error: null | 'insecure' | 'no-webrtc' | 'mic-denied' | 'mic-missing' | 'mic-busy' | 'server' (errorMessage holds
 *        the server's sentence, errorStatus its HTTP status) | 'unreachable' (never connected) | 'lost' (gave up reconnecting).
 *        A microphone error while connected (the device was unplugged) leaves the call up.
 * endReason (state 'ended'): 'left' (hangUp or the tab closed) | 'gone' (the server no longer knows the call) |
 *        'removed' (the page learnt that the call was hung up, or the conference ended).
 */
export class Softphone {
  constructor({ join, leave, leaveUrl = null, onChange = () => {} }) {
    this.join = join;
    this.leave = leave;
    this.leaveUrl = leaveUrl;
    this.onChange = onChange;
    this.state = 'idle';
    this.error = null;
    this.errorMessage = null;
    this.errorStatus = null;
    this.endReason = null;
    this.call = null;
    this.pc = null;
    this.stream = null;         // the microphone's stream
    this.track = null;          // its audio track, sent
    this.sender = null;
    this.remoteTrack = null;
    this.remoteStream = null;
    this.level = 0;             // microphone level 0..1 (meter scale)
    this.remoteLevel = 0;       // what the conference sends, 0..1 (meter scale)
    this.isMuted = false;
    this.inputId = null;
    this.outputId = null;
    this.generation = 0;        // bumped whenever a connection is replaced or the call ends: late answers are dropped
    this.everConnected = false;
    this.lostAt = null;
    this.answeredAt = null;
    this.disconnectedSince = null;
    this.awaitingAnswer = false;
    this.leftCall = null;
    this.audio = document.createElement('audio');
    this.audio.autoplay = true;
    this.audio.hidden = true;
    this.audio.className = 'softphone-audio';
    this.onPageHide = () => this.leaveOnUnload();
    this.onDeviceChange = () => this.emit('devices');
  }

  get active() { return ACTIVE.has(this.state); }
  get muted() { return this.isMuted; }

  /** The microphone in use (its deviceId), or null. */
  get inputDevice() {
    const settings = this.track && this.track.getSettings ? this.track.getSettings() : null;
    return (settings && settings.deviceId) || this.inputId || null;
  }

  /** The speaker in use (its deviceId; '' is the system's default). */
  get outputDevice() { return this.outputId || this.audio.sinkId || ''; }

  emit(kind) {
    try { this.onChange(kind); } catch (e) { console.error(e); }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('state');
  }

  // ---- starting ----------------------------------------------------------------------------------

  /** Opens the microphone and joins. Call it from a click: the browser allows sound and Web Audio then. */
  async start({ inputId = null, outputId = null } = {}) {
    if (this.active) return;
    this.release();
    this.error = null;
    this.errorMessage = null;
    this.errorStatus = null;
    this.endReason = null;
    this.call = null;
    this.leftCall = null;
    this.everConnected = false;
    this.lostAt = null;
    this.inputId = inputId;
    this.outputId = outputId;
    window.konferenzSoftphone = this;
    this.setState('starting');

    if (!window.isSecureContext) return this.fail('insecure');
    if (typeof RTCPeerConnection !== 'function' || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return this.fail('no-webrtc');
    }
    const generation = this.generation;
    this.openAudio();
    let stream;
    try {
      stream = await this.openMic(inputId, true);
    } catch (e) {
      if (generation === this.generation) this.fail(micError(e));
      return undefined;
    }
    if (generation !== this.generation || this.state !== 'starting') {
      for (const track of stream.getTracks()) track.stop();   // hung up while the browser asked
      return undefined;
    }
    this.useStream(stream);
    document.body.append(this.audio);
    if (outputId && canChooseOutput()) this.audio.setSinkId(outputId).catch(() => { this.outputId = null; });
    window.addEventListener('pagehide', this.onPageHide);
    if (navigator.mediaDevices.addEventListener) navigator.mediaDevices.addEventListener('devicechange', this.onDeviceChange);
    this.watchdog = setInterval(() => this.check(), WATCH_MS);
    this.meters = setInterval(() => this.measure(), LEVEL_MS);
    this.emit('devices');
    return this.signal();
  }

  async openMic(deviceId, fallBack) {
    const raw = window.KONFERENZ_TEST_RAW_AUDIO === true;   // tests send a pure tone: no processing
    const audio = { echoCancellation: !raw, noiseSuppression: !raw, autoGainControl: !raw };
    if (deviceId) {
      try {
        return await navigator.mediaDevices.getUserMedia({ audio: { ...audio, deviceId: { exact: deviceId } } });
      } catch (e) {
        // A remembered microphone that is gone: the default one will do.
        if (!fallBack || (e.name !== 'OverconstrainedError' && e.name !== 'NotFoundError')) throw e;
      }
    }
    return navigator.mediaDevices.getUserMedia({ audio });
  }

  useStream(stream) {
    const old = this.stream;
    this.stream = stream;
    this.track = stream.getAudioTracks()[0] || null;
    if (this.track) {
      this.track.enabled = !this.isMuted;
      const track = this.track;
      track.addEventListener('ended', () => { if (track === this.track && this.active) this.micGone(); });
    }
    if (old && old !== stream) for (const track of old.getTracks()) track.stop();
    if (this.ctx && this.localAnalyser) {
      if (this.localSource) this.localSource.disconnect();
      this.localSource = this.ctx.createMediaStreamSource(stream);
      this.localSource.connect(this.localAnalyser);
    }
  }

  /** The microphone went away (unplugged): take the default one, or say so and keep listening. */
  async micGone() {
    try {
      await this.switchInput(null);
    } catch {
      this.error = 'mic-missing';
      this.emit('state');
    }
  }

  openAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context || this.ctx) return;
    try {
      this.ctx = new Context();
    } catch {
      this.ctx = null;
      return;
    }
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    const analyser = () => {
      const node = this.ctx.createAnalyser();
      node.fftSize = 1024;
      node.smoothingTimeConstant = 0;
      return node;
    };
    this.localAnalyser = analyser();
    this.remoteAnalyser = analyser();
    this.samples = new Float32Array(this.localAnalyser.fftSize);
  }

  // ---- signalling and the connection ---------------------------------------------------------------

  /** One offer/answer round on a new RTCPeerConnection with the same microphone track. */
  async signal() {
    clearTimeout(this.retryTimer);
    this.generation += 1;
    const generation = this.generation;
    this.closePc();
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc = pc;
    this.answeredAt = null;
    this.disconnectedSince = null;
    const transceiver = pc.addTransceiver(this.track, { direction: 'sendrecv', streams: [this.stream] });
    this.sender = transceiver.sender;
    this.playRemote(transceiver.receiver.track);
    pc.addEventListener('track', (e) => { if (pc === this.pc) this.playRemote(e.track); });
    pc.addEventListener('connectionstatechange', () => { if (pc === this.pc) this.check(); });
    pc.addEventListener('iceconnectionstatechange', () => { if (pc === this.pc) this.check(); });

    this.awaitingAnswer = true;
    try {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      if (generation !== this.generation) return;
      // No trickle ICE: the server is ICE-lite and learns our address from our checks.
      const request = this.join(pc.localDescription.sdp, this.call);
      request.then((late) => { if (generation !== this.generation) this.orphaned(late); }, () => {});
      const answer = await timeout(request, JOIN_TIMEOUT_MS);
      if (generation !== this.generation) return;
      if (!answer || typeof answer.sdp !== 'string') throw new Error('the answer carries no SDP');
      if (answer.call !== undefined && answer.call !== null) this.call = answer.call;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
      if (generation !== this.generation) return;
      this.awaitingAnswer = false;
      this.answeredAt = Date.now();
      this.check();
    } catch (e) {
      if (generation !== this.generation) return;
      this.awaitingAnswer = false;
      this.signalFailed(e);
    }
  }

  /** An answer that came after its attempt was given up: a call we do not hold is ended at once. */
  orphaned(answer) {
    if (!answer || answer.call === undefined || answer.call === null) return;
    if (this.active && answer.call === this.call) return;
    if (answer.call === this.leftCall) return;
    this.leave(answer.call).catch(() => {});
  }

  signalFailed(e) {
    const status = e && typeof e.status === 'number' ? e.status : null;
    if (this.state !== 'reconnecting') {
      this.fail('server', e);
      return;
    }
    if (status === 404 || status === 403) {
      // The server no longer has this participant: hung up, blocked, or the conference ended.
      this.end('gone');
      return;
    }
    if (status === 0 || status === 429 || (status !== null && status >= 500)) {
      this.closePc();
      this.retryTimer = setTimeout(() => this.retry(), RETRY_MS);
      return;
    }
    this.fail('server', e);
  }

  retry() {
    if (this.state !== 'reconnecting') return;
    if (Date.now() - this.lostAt > GIVE_UP_MS) {
      this.fail('lost');
      return;
    }
    this.signal();
  }

  /** Events and the 1 s watchdog both land here. */
  check() {
    const pc = this.pc;
    if (!pc || !this.active) return;
    const state = pc.connectionState || iceToConnection(pc.iceConnectionState);
    if (state === 'connected' && !this.awaitingAnswer) {
      this.disconnectedSince = null;
      if (this.state !== 'connected') {
        this.everConnected = true;
        this.lostAt = null;
        this.setState('connected');
      }
      return;
    }
    if (state === 'failed' || state === 'closed') {
      this.lose();
      return;
    }
    if (this.awaitingAnswer) return;
    if (state === 'disconnected') {
      const now = Date.now();
      if (this.disconnectedSince === null) this.disconnectedSince = now;
      if (now - this.disconnectedSince > DISCONNECTED_MS) this.lose();
      return;
    }
    // 'new' or 'connecting': an answered offer that does not connect in time counts as lost.
    if (this.answeredAt && Date.now() - this.answeredAt > CONNECT_MS) this.lose();
  }

  /** The connection is gone: build a new one for the same participant (or give up if it never worked). */
  lose() {
    if (!this.everConnected) {
      this.fail('unreachable');
      return;
    }
    if (this.lostAt === null) this.lostAt = Date.now();
    this.closePc();
    this.setState('reconnecting');
    this.retry();
  }

  closePc() {
    const pc = this.pc;
    this.pc = null;
    this.sender = null;
    this.awaitingAnswer = false;
    if (pc) {
      try { pc.close(); } catch { /* already closed */ }
    }
  }

  playRemote(track) {
    if (!track || track === this.remoteTrack) return;
    this.remoteTrack = track;
    this.remoteStream = new MediaStream([track]);
    this.audio.srcObject = this.remoteStream;
    const playing = this.audio.play();
    if (playing && playing.catch) playing.catch(() => this.playOnGesture());
    // Remote WebRTC audio reaches Web Audio only while it also plays in the <audio> element.
    if (this.ctx && this.remoteAnalyser) {
      if (this.remoteSource) this.remoteSource.disconnect();
      this.remoteSource = this.ctx.createMediaStreamSource(this.remoteStream);
      this.remoteSource.connect(this.remoteAnalyser);
    }
  }

  /** The browser refused to play without a click: play on the next one. */
  playOnGesture() {
    if (this.waitingForGesture) return;
    this.waitingForGesture = true;
    const go = () => {
      this.waitingForGesture = false;
      document.removeEventListener('pointerdown', go, true);
      document.removeEventListener('keydown', go, true);
      if (this.audio.srcObject) this.audio.play().catch(() => {});
      if (this.ctx && this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    };
    document.addEventListener('pointerdown', go, true);
    document.addEventListener('keydown', go, true);
  }

  // ---- levels ------------------------------------------------------------------------------------

  rms(analyser) {
    if (!analyser || !this.samples) return 0;
    analyser.getFloatTimeDomainData(this.samples);
    let sum = 0;
    for (const x of this.samples) sum += x * x;
    return Math.sqrt(sum / this.samples.length);
  }

  measure() {
    const level = this.track && this.track.enabled ? meter(this.rms(this.localAnalyser)) : 0;
    const remote = meter(this.rms(this.remoteAnalyser));
    const changed = Math.abs(level - this.level) > 0.01 || Math.abs(remote - this.remoteLevel) > 0.01;
    this.level = level;
    this.remoteLevel = remote;
    if (changed) this.emit('level');
  }

  // ---- controls ----------------------------------------------------------------------------------

  setMuted(muted) {
    this.isMuted = !!muted;
    if (this.track) this.track.enabled = !this.isMuted;
    this.emit('state');
  }

  /** The microphones and speakers ({id, label}); labels are empty until the microphone was allowed. */
  async devices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return { inputs: [], outputs: [] };
    let all;
    try {
      all = await navigator.mediaDevices.enumerateDevices();
    } catch {
      return { inputs: [], outputs: [] };
    }
    const pick = (kind) => all.filter((d) => d.kind === kind && d.deviceId).map((d) => ({ id: d.deviceId, label: d.label || '' }));
    return { inputs: pick('audioinput'), outputs: canChooseOutput() ? pick('audiooutput') : [] };
  }

  /** Another microphone (null: the default one), without leaving the call. */
  async switchInput(deviceId) {
    if (!this.active || !this.stream) { this.inputId = deviceId; return; }
    const generation = this.generation;
    let stream;
    try {
      stream = await this.openMic(deviceId, false);
    } catch (e) {
      this.error = micError(e);
      this.emit('state');
      throw e;
    }
    if (!this.active) { for (const track of stream.getTracks()) track.stop(); return; }
    const track = stream.getAudioTracks()[0];
    track.enabled = !this.isMuted;
    if (this.sender && generation === this.generation) await this.sender.replaceTrack(track);
    this.useStream(stream);   // a connection built meanwhile (or later) takes this.track anyway
    this.inputId = deviceId;
    if (this.error && this.error.startsWith('mic-')) this.error = null;
    this.emit('state');
    this.emit('devices');
  }

  /** Another speaker ('' or null: the default one). */
  async switchOutput(deviceId) {
    if (canChooseOutput()) await this.audio.setSinkId(deviceId || '');
    this.outputId = deviceId || null;
    this.emit('devices');
  }

  // ---- ending ------------------------------------------------------------------------------------

  /** Leaves the conference. Resolves when the server was told (or could not be reached). */
  async hangUp() {
    const call = this.call;
    this.endReason = 'left';
    this.release();
    this.setState('ended');
    if (call === null || call === this.leftCall) return;
    this.leftCall = call;
    try { await this.leave(call); } catch { /* the server notices the silence */ }
  }

  /** The page learnt that the call is over (hung up from the window, the conference ended): no DELETE needed. */
  drop(reason = 'removed') {
    if (!this.active) return;
    this.leftCall = this.call;
    this.end(reason);
  }

  end(reason) {
    this.endReason = reason;
    this.release();
    this.setState('ended');
  }

  fail(code, e) {
    const call = this.call;
    this.error = code;
    this.errorStatus = e && typeof e.status === 'number' ? e.status : null;
    this.errorMessage = this.errorStatus !== null && e.message && e.message !== 'timeout' ? e.message : null;
    this.release();
    if (call !== null && call !== this.leftCall) {
      this.leftCall = call;
      this.leave(call).catch(() => {});
    }
    this.setState('failed');
  }

  /** The tab closes: a keepalive DELETE outlives the page. */
  leaveOnUnload() {
    const call = this.call;
    if (!this.active) return;
    if (call !== null && this.leaveUrl && call !== this.leftCall) {
      const headers = {};
      const csrf = csrfToken();
      if (csrf) headers['X-CSRF-Token'] = csrf;
      try {
        fetch(this.leaveUrl(call), { method: 'DELETE', keepalive: true, headers, credentials: 'same-origin' });
      } catch { /* the server notices the silence */ }
      this.leftCall = call;
    }
    this.end('left');
  }

  /** Frees the connection, the microphone, the meters and the timers; the state is left to the caller. */
  release() {
    this.generation += 1;
    clearInterval(this.watchdog);
    clearInterval(this.meters);
    clearTimeout(this.retryTimer);
    this.closePc();
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    this.track = null;
    this.remoteTrack = null;
    this.remoteStream = null;
    this.audio.srcObject = null;
    this.audio.remove();
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = null;
    this.localSource = null;
    this.remoteSource = null;
    this.localAnalyser = null;
    this.remoteAnalyser = null;
    this.level = 0;
    this.remoteLevel = 0;
    window.removeEventListener('pagehide', this.onPageHide);
    if (navigator.mediaDevices && navigator.mediaDevices.removeEventListener) {
      navigator.mediaDevices.removeEventListener('devicechange', this.onDeviceChange);
    }
  }
}

function iceToConnection(ice) {
  if (ice === 'completed') return 'connected';
  if (ice === 'checking') return 'connecting';
  return ice;
}
