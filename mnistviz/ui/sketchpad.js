// The Draw page's canvas: white ink on a transparent canvas, over the ink's moved copy (the ghost,
// drawn here, so a stroke made while the digit is moved needs no round trip) over a guide picture.
// Each pen lift sends the ink at once as a PNG (no debounce: a student waits for the answers).
// One set of handlers per mounted pad, kept across reruns; reruns change the guide and the move.
const pads = new WeakMap();

function start(root, setStateValue) {
  const canvas = root.querySelector("canvas.ink");
  const ghost = root.querySelector("canvas.ghost");
  const pen = canvas.getContext("2d");
  const pad = { root, canvas, ghost, pen, down: false, last: null, setStateValue, size: 0, move: [0, 0], colour: "" };
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) * pad.size) / box.width, ((event.clientY - box.top) * pad.size) / box.height];
  };
  const line = (from, to) => {
    pen.beginPath();
    pen.moveTo(from[0], from[1]);
    pen.lineTo(to[0], to[1]);
    pen.stroke();
  };
  const press = (event) => {
    if (event.button > 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    pad.down = true;
    pad.last = point(event);
    line(pad.last, pad.last);
  };
  const move = (event) => {
    if (!pad.down) return;
    event.preventDefault();
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
    for (const each of events.length ? events : [event]) {
      const next = point(each);
      line(pad.last, next);
      pad.last = next;
    }
  };
  const lift = () => {
    if (!pad.down) return;
    pad.down = false;
    pad.setStateValue("drawing", canvas.toDataURL("image/png"));
    moveGhost(pad);
  };
  canvas.addEventListener("pointerdown", press);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  pad.stop = () => {
    canvas.removeEventListener("pointerdown", press);
    canvas.removeEventListener("pointermove", move);
    canvas.removeEventListener("pointerup", lift);
    canvas.removeEventListener("pointercancel", lift);
  };
  return pad;
}

// The ink, moved by the sliders and clipped at the canvas' edge like the field, in one colour.
function moveGhost(pad) {
  const paint = pad.ghost.getContext("2d");
  paint.clearRect(0, 0, pad.size, pad.size);
  if (pad.move[0] === 0 && pad.move[1] === 0) return;
  paint.globalCompositeOperation = "source-over";
  paint.drawImage(pad.canvas, pad.move[0], pad.move[1]);
  paint.globalCompositeOperation = "source-in";
  paint.fillStyle = pad.colour;
  paint.fillRect(0, 0, pad.size, pad.size);
  paint.globalCompositeOperation = "source-over";
}

function show(pad, data) {
  if (pad.size !== data.size) {
    pad.size = data.size;
    for (const layer of [pad.canvas, pad.ghost]) layer.width = layer.height = data.size;
    pad.root.style.width = pad.root.style.height = `${data.size}px`;
  }
  pad.pen.strokeStyle = "#fff";
  pad.pen.lineWidth = data.stroke;
  pad.pen.lineCap = pad.pen.lineJoin = "round";
  pad.root.style.backgroundImage = `url("${data.guide}")`;
  pad.canvas.setAttribute("aria-label", data.label);
  pad.move = data.move;
  pad.colour = data.ghost;
  moveGhost(pad);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".sketchpad");
  let pad = pads.get(parentElement);
  if (!pad) {
    pad = start(root, setStateValue);
    pads.set(parentElement, pad);
  }
  pad.setStateValue = setStateValue;
  show(pad, data);
  return () => {
    pad.stop();
    pads.delete(parentElement);
  };
}
