// The room page: joins ws://HOST/ROOM (the page's own URL), sends the camera and microphone
// to every participant and chats over a data channel "chat", full mesh. Each pair of peers
// uses the W3C "perfect negotiation" pattern: the participant that was there first calls
// (impolite), the newcomer answers (polite). Plain JavaScript, no build step.
//
// Test hooks: window.chatLog (["NAME: TEXT", ...]), window.sendChat(text) (returns how many
// peers it went to), window.openChannels(), window.rtcPeers(), window.roomState.
'use strict';

const params = new URLSearchParams(location.search);
const roomName = decodeURIComponent(location.pathname.slice(1)) || 'lobby';
const myName = params.get('name') || 'browser-' + Math.random().toString(36).slice(2, 6);
const wantVideo = params.get('video') !== '0';
const relayOnly = params.get('relay') === '1';

// `turn:USER:PASS@HOST:PORT?transport=udp`, as `chat --ice-server` takes them.
function iceServer(url) {
  const colon = url.indexOf(':');
  const scheme = url.slice(0, colon);
  const rest = url.slice(colon + 1);
  const at = rest.lastIndexOf('@');
  if (at < 0) return { urls: url };
  const cred = rest.slice(0, at);
  const sep = cred.indexOf(':');
  return {
    urls: scheme + ':' + rest.slice(at + 1),
    username: decodeURIComponent(cred.slice(0, sep)),
    credential: decodeURIComponent(cred.slice(sep + 1)),
  };
}
const rtcConfig = {
  iceServers: params.getAll('ice').map(iceServer),
  iceTransportPolicy: relayOnly ? 'relay' : 'all',
};

const $ = (id) => document.getElementById(id);
$('room').textContent = roomName;
window.chatLog = [];
window.roomState = { pid: null, peers: {} };
const peers = new Map(); // pid -> { name, pc, channels: Set, polite, makingOffer, ignoreOffer }
let localStream = null;
let ws = null;
let inbox = Promise.resolve();

function log(text, cls) {
  const line = document.createElement('div');
  if (cls) line.className = cls;
  line.textContent = text;
  $('log').append(line);
  $('log').scrollTop = $('log').scrollHeight;
  console.log('room: ' + text);
}

function status(text) {
  $('status').textContent = text;
}

function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
}

function videoTile(id, label, stream, muted) {
  let fig = document.getElementById('v-' + id);
  if (!fig) {
    fig = document.createElement('figure');
    fig.id = 'v-' + id;
    const v = document.createElement('video');
    v.autoplay = true;
    v.playsInline = true;
    v.muted = muted;
    const cap = document.createElement('figcaption');
    fig.append(v, cap);
    $('videos').append(fig);
  }
  fig.querySelector('figcaption').textContent = label;
  fig.querySelector('video').srcObject = stream;
}

function setupChannel(peer, dc) {
  dc.onopen = () => {
    peer.channels.add(dc);
    log('chat open with ' + peer.name, 'info');
    updateState();
  };
  dc.onclose = () => {
    peer.channels.delete(dc);
    updateState();
  };
  dc.onmessage = (e) => {
    const text = typeof e.data === 'string' ? e.data : '[binary ' + e.data.byteLength + ' bytes]';
    window.chatLog.push(peer.name + ': ' + text);
    log(peer.name + ': ' + text);
  };
  if (dc.readyState === 'open') dc.onopen();
}

function updateState() {
  const out = {};
  for (const [pid, p] of peers) {
    out[pid] = {
      name: p.name,
      connectionState: p.pc.connectionState,
      channels: p.channels.size,
    };
  }
  window.roomState.peers = out;
  status(peers.size + ' peer(s), ' + window.openChannels() + ' chat channel(s) open');
}

function addCamera(peer) {
  if (!localStream || peer.cameraAdded) return;
  peer.cameraAdded = true;
  for (const track of localStream.getTracks()) peer.pc.addTrack(track, localStream);
}

function createPeer(participant, initiator) {
  const pc = new RTCPeerConnection(rtcConfig);
  const peer = {
    pid: participant.pid,
    name: participant.name || '#' + participant.pid,
    pc,
    channels: new Set(),
    polite: !initiator,
    makingOffer: false,
    ignoreOffer: false,
  };
  peers.set(participant.pid, peer);
  const to = participant.pid;
  pc.onnegotiationneeded = async () => {
    try {
      peer.makingOffer = true;
      await pc.setLocalDescription();
      send({ type: 'sdp', to, sdp: pc.localDescription.toJSON() });
    } catch (err) {
      log('offer to ' + peer.name + ' failed: ' + err, 'info');
    } finally {
      peer.makingOffer = false;
    }
  };
  pc.onicecandidate = ({ candidate }) => {
    send({ type: 'candidate', to, candidate: candidate ? candidate.toJSON() : null });
  };
  pc.onconnectionstatechange = () => {
    log(peer.name + ': ' + pc.connectionState, 'info');
    updateState();
  };
  pc.ontrack = ({ streams, track }) => {
    const stream = streams[0] || new MediaStream([track]);
    videoTile(to, peer.name, stream, false);
  };
  pc.ondatachannel = ({ channel }) => setupChannel(peer, channel);
  // The caller sends its camera with its first offer. The newcomer adds its camera once it
  // has answered that call: adding it at once makes both sides offer together, which the
  // perfect negotiation below resolves, but Chromium 156 then sometimes never gathers
  // candidates for the transport it makes after the rollback (seen here about once in
  // seven runs), and the connection never starts.
  if (initiator) {
    addCamera(peer);
    setupChannel(peer, pc.createDataChannel('chat'));
  }
  updateState();
  return peer;
}

async function onDescription(peer, description) {
  const pc = peer.pc;
  const readyForOffer = !peer.makingOffer &&
    (pc.signalingState === 'stable' || peer.settingRemoteAnswer);
  const collision = description.type === 'offer' && !readyForOffer;
  peer.ignoreOffer = !peer.polite && collision;
  if (peer.ignoreOffer) return;
  peer.settingRemoteAnswer = description.type === 'answer';
  await pc.setRemoteDescription(description); // rolls our offer back on glare
  peer.settingRemoteAnswer = false;
  if (description.type === 'offer') {
    await pc.setLocalDescription();
    send({ type: 'sdp', to: peer.pid, sdp: pc.localDescription.toJSON() });
    addCamera(peer); // renegotiates when it adds something
  }
}

function closePeer(pid) {
  const peer = peers.get(pid);
  if (!peer) return;
  peer.pc.close();
  peers.delete(pid);
  const tile = document.getElementById('v-' + pid);
  if (tile) tile.remove();
  log(peer.name + ' left', 'info');
  updateState();
}

async function onMessage(m) {
  switch (m.type) {
    case 'joined':
      window.roomState.pid = m.pid;
      log('joined ' + m.room + ' as ' + myName + ' with ' + m.participants.length + ' other(s)', 'info');
      for (const p of m.participants) createPeer(p, false);
      break;
    case 'participant-ready':
      log((m.name || '#' + m.pid) + ' joined', 'info');
      createPeer(m, true);
      break;
    case 'sdp': {
      const peer = peers.get(m.from);
      if (peer) await onDescription(peer, m.sdp);
      break;
    }
    case 'candidate': {
      const peer = peers.get(m.from);
      if (!peer) break;
      try {
        await peer.pc.addIceCandidate(m.candidate || undefined);
      } catch (err) {
        if (!peer.ignoreOffer) log('candidate from ' + peer.name + ' refused: ' + err, 'info');
      }
      break;
    }
    case 'chat':
      log((m.name || '#' + m.from) + ' (via the server): ' + m.text);
      break;
    case 'bye':
      closePeer(m.from);
      break;
    case 'error':
      log('server: ' + m.message, 'info');
      break;
  }
}

window.rtcPeers = () => [...peers.values()].map((p) => p.pc);

window.openChannels = () => {
  let n = 0;
  for (const p of peers.values()) n += p.channels.size;
  return n;
};

window.sendChat = (text) => {
  let n = 0;
  for (const p of peers.values()) {
    for (const dc of p.channels) {
      if (dc.readyState === 'open') {
        dc.send(text);
        n++;
      }
    }
  }
  window.chatLog.push(myName + ' (me): ' + text);
  log(myName + ': ' + text, 'me');
  return n;
};

$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('text').value.trim();
  if (text) window.sendChat(text);
  $('text').value = '';
});

async function start() {
  if (wantVideo) {
    try {
      localStream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      videoTile('me', myName + ' (me)', localStream, true);
    } catch (err) {
      log('no camera: ' + err, 'info');
    }
  }
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  ws = new WebSocket(scheme + location.host + '/' + encodeURIComponent(roomName));
  ws.onopen = () => send({ type: 'join', name: myName });
  ws.onmessage = (e) => {
    let m;
    try {
      m = JSON.parse(e.data);
    } catch (err) {
      return;
    }
    // One message at a time, in order, as the perfect negotiation pattern assumes.
    inbox = inbox.then(() => onMessage(m)).catch((err) => log('error: ' + err, 'info'));
  };
  ws.onclose = () => status('disconnected from the room server');
}

start();
