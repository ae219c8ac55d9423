import { describe, expect, it } from "vitest";
import {
  binaryInputFrame,
  decodeServerFrame,
  handshakeFrame,
  inputFrame,
  resizeFrame,
  terminalUrl,
} from "./ttyd";

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe("client frames", () => {
  it("handshake is the JSON ttyd expects, with an empty token", () => {
    expect(JSON.parse(text(handshakeFrame({ columns: 80, rows: 24 })))).toEqual({
      AuthToken: "",
      columns: 80,
      rows: 24,
    });
  });

  it("input is '0' followed by UTF-8", () => {
    const frame = inputFrame("ls é\r");
    expect(frame[0]).toBe("0".charCodeAt(0));
    expect(text(frame.subarray(1))).toBe("ls é\r");
    expect(frame.length).toBe(1 + new TextEncoder().encode("ls é\r").length);
  });

  it("binary input keeps bytes as they are", () => {
    const frame = binaryInputFrame("\x1b[M\xff");
    expect(Array.from(frame)).toEqual([0x30, 0x1b, 0x5b, 0x4d, 0xff]);
  });

  it("resize is '1' followed by JSON columns/rows", () => {
    const frame = resizeFrame({ columns: 132, rows: 40 });
    expect(text(frame)).toBe('1{"columns":132,"rows":40}');
  });
});

describe("server frames", () => {
  const frame = (command: string, payload: string): ArrayBuffer =>
    new TextEncoder().encode(command + payload).buffer;

  it("decodes output bytes", () => {
    const decoded = decodeServerFrame(frame("0", "hello\r\n"));
    expect(decoded.kind).toBe("output");
    if (decoded.kind === "output") expect(text(decoded.data)).toBe("hello\r\n");
  });

  it("decodes the window title and preferences", () => {
    expect(decodeServerFrame(frame("1", "bash: ~"))).toEqual({ kind: "title", title: "bash: ~" });
    expect(decodeServerFrame(frame("2", '{"fontSize":15}'))).toEqual({
      kind: "preferences",
      preferences: { fontSize: 15 },
    });
  });

  it("tolerates malformed preferences and unknown or empty frames", () => {
    expect(decodeServerFrame(frame("2", "{nope"))).toEqual({ kind: "preferences", preferences: {} });
    expect(decodeServerFrame(frame("9", "x"))).toEqual({ kind: "unknown", command: "9" });
    expect(decodeServerFrame(new ArrayBuffer(0))).toEqual({ kind: "unknown", command: "" });
  });
});

describe("terminalUrl", () => {
  it("uses ws on http and wss on https, same host", () => {
    expect(terminalUrl({ protocol: "http:", host: "localhost:3000" }, "abc")).toBe(
      "ws://localhost:3000/api/sessions/abc/terminal",
    );
    expect(terminalUrl({ protocol: "https:", host: "oqto.example" }, "a/b")).toBe(
      "wss://oqto.example/api/sessions/a%2Fb/terminal",
    );
  });
});
