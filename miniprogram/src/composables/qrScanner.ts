// Reads QR codes from video frames: the browser's BarcodeDetector where it exists (Chrome on
// Android, Safari 17+), else ZXing compiled to WebAssembly (zxing-wasm). The .wasm file is
// bundled by Vite (?url) and loaded from our own /assets, never from a CDN, so scanning works
// offline and inside WeChat.

type Detect = (source: HTMLVideoElement | HTMLCanvasElement) => Promise<string[]>

interface BarcodeDetectorLike {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>
}
declare global {
  interface Window {
    BarcodeDetector?: {
      new (opts: { formats: string[] }): BarcodeDetectorLike
      getSupportedFormats?: () => Promise<string[]>
    }
  }
}

export type ScannerKind = 'native' | 'wasm'

async function nativeDetector(): Promise<Detect | null> {
  const BD = window.BarcodeDetector
  if (!BD) return null
  try {
    const formats = (await BD.getSupportedFormats?.()) ?? ['qr_code']
    if (!formats.includes('qr_code')) return null
    const det = new BD({ formats: ['qr_code'] })
    return async (src) => (await det.detect(src)).map((b) => b.rawValue)
  } catch {
    return null
  }
}

async function wasmDetector(): Promise<Detect> {
  const [{ prepareZXingModule, readBarcodes }, { default: wasmUrl }] = await Promise.all([
    import('zxing-wasm/reader'),
    import('zxing-wasm/reader/zxing_reader.wasm?url'),
  ])
  prepareZXingModule({
    overrides: { locateFile: (path: string, prefix: string) => (path.endsWith('.wasm') ? wasmUrl : prefix + path) },
  })
  const canvas = document.createElement('canvas')
  return async (src) => {
    const w = src instanceof HTMLVideoElement ? src.videoWidth : src.width
    const h = src instanceof HTMLVideoElement ? src.videoHeight : src.height
    if (!w || !h) return []
    canvas.width = w
    canvas.height = h
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!
    ctx.drawImage(src, 0, 0, w, h)
    const results = await readBarcodes(ctx.getImageData(0, 0, w, h), { formats: ['QRCode'], tryHarder: true })
    return results.filter((r) => r.isValid).map((r) => r.text)
  }
}

/** The best available detector; `force` picks one (the browser test checks both). */
export async function createScanner(force?: ScannerKind): Promise<{ kind: ScannerKind; detect: Detect }> {
  if (force !== 'wasm') {
    const native = await nativeDetector()
    if (native) return { kind: 'native', detect: native }
  }
  return { kind: 'wasm', detect: await wasmDetector() }
}

/** One video frame as a JPEG (the photo that is uploaded with a live scan). */
export function grabFrame(video: HTMLVideoElement): Promise<Blob> {
  const canvas = document.createElement('canvas')
  canvas.width = video.videoWidth
  canvas.height = video.videoHeight
  canvas.getContext('2d')!.drawImage(video, 0, 0)
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no frame'))), 'image/jpeg', 0.92),
  )
}
