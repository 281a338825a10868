// A Socket.IO JavaScript client for tests/test_chat.py (SPEC R30-R32, R50).
//
//   node tests/node/chat_client.mjs <base> <token> <room> [message]
//
// Connects to <base>/room with {auth: {token, room}} over WebSocket, prints
// every CHAT_HISTORY, CHAT, ERROR and ROOM_CLOSED it receives as one JSON line
// {"event": name, "data": payload}, sends CHAT {message} once connected, and
// exits 0 when its own message comes back as CHAT (or right after connecting
// when no message is given). A refused connection prints
// {"event": "connect_error", "message": err.message, "data": err.data} and
// exits 2; no answer within the time limit exits 3.
import { io } from "socket.io-client";

const [base, token, room, message] = process.argv.slice(2);
if (!base || token === undefined || room === undefined) {
  console.error("usage: node chat_client.mjs <base> <token> <room> [message]");
  process.exit(64);
}

const print = (event, data) => console.log(JSON.stringify({ event, data }));
const finish = (socket, code) => {
  socket.disconnect();
  process.exit(code);
};

const socket = io(base + "/room", {
  auth: { token, room },
  transports: ["websocket"],
  reconnection: false,
  timeout: 10000,
});

const timer = setTimeout(() => {
  print("timeout", null);
  finish(socket, 3);
}, 15000);

let historySeen = false;

for (const name of ["CHAT_HISTORY", "CHAT", "ERROR", "ROOM_CLOSED"]) {
  socket.on(name, (data) => {
    print(name, data);
    if (name === "CHAT_HISTORY") {
      historySeen = true;
      if (!message) {
        clearTimeout(timer);
        finish(socket, 0);
      } else {
        socket.emit("CHAT", { message });
      }
    }
    if (name === "CHAT" && message && data && data.message === message.trim()) {
      clearTimeout(timer);
      finish(socket, 0);
    }
  });
}

socket.on("connect", () => print("connect", { id: socket.id, history_seen: historySeen }));

socket.on("connect_error", (err) => {
  print("connect_error", { message: err.message, data: err.data ?? null });
  clearTimeout(timer);
  finish(socket, 2);
});
