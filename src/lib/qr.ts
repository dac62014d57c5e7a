/** The one module that touches qrcode: error correction M, the smallest version that fits. */
import QRCode from "qrcode";
import { encodeMonochromePng } from "./png.ts";

const errorCorrectionLevel = "M" as const;
const MARGIN_MODULES = 4; // the quiet zone ISO/IEC 18004 asks for

export async function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: "svg", errorCorrectionLevel, margin: MARGIN_MODULES });
}

export function qrVersion(text: string): number {
  return QRCode.create(text, { errorCorrectionLevel }).version;
}

/** A PNG drawn from the QR matrix, `scale` pixels a module. */
export async function qrPng(text: string, scale = 6): Promise<Uint8Array> {
  const { size, data } = QRCode.create(text, { errorCorrectionLevel }).modules;
  const side = (size + 2 * MARGIN_MODULES) * scale;
  return encodeMonochromePng(side, side, (x, y) => {
    const mx = Math.floor(x / scale) - MARGIN_MODULES;
    const my = Math.floor(y / scale) - MARGIN_MODULES;
    return mx >= 0 && my >= 0 && mx < size && my < size && data[my * size + mx] === 1;
  });
}
