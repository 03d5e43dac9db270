import koffi from 'koffi';

/** The system's libjpeg-turbo TurboJPEG library (Debian: `libturbojpeg0`). */
export const TURBOJPEG_LIBRARY = 'libturbojpeg.so.0';

/** TJPF_RGB: interleaved 8-bit R, G, B. */
const PIXEL_FORMAT_RGB = 0;
/**
 * TJFLAG_ACCURATEDCT | TJFLAG_LIMITSCANS: the accurate integer IDCT (tf.io.decode_jpeg's and Pillow's default,
 * so pixels are theirs, and libvips' too), and a progressive JPEG of more than 500 scans is refused instead of
 * decoded for minutes (libjpeg-turbo's guard against scan bombs). Fancy upsampling stays on, as in TensorFlow.
 */
const DECODE_FLAGS = 4096 | 32768;
/** TJCS_CMYK and TJCS_YCCK: TurboJPEG cannot turn these into RGB. */
const CMYK_COLORSPACES = new Set([3, 4]);
/**
 * Decoded images up to this size (about 5 MP) reuse one buffer per thread: a fresh 1–16 MB buffer per photo costs a
 * zeroing pass and makes V8 collect garbage for its external memory. Larger ones get their own, freed after use.
 */
const SCRATCH_BYTES = 16 * 1024 * 1024;

export interface JpegHeader {
  width: number;
  height: number;
  /** CMYK or YCCK: TurboJPEG cannot decode it to RGB. */
  cmyk: boolean;
}

export interface RgbPixels {
  data: Uint8Array<ArrayBuffer>;
  width: number;
  height: number;
}

/** JPEG decoding on libjpeg-turbo's SIMD code, synchronously on the calling thread. */
export interface TurboJpeg {
  /** The header, or undefined when TurboJPEG cannot read it. */
  header(bytes: Uint8Array): JpegHeader | undefined;
  /**
   * The whole image as RGB, scaled by 1/`shrink` (1, 2, 4 or 8) in the DCT while it is decoded, or undefined when
   * it is damaged, truncated or otherwise not decodable here (the caller falls back to libvips, which says why).
   * The pixels of an image up to `SCRATCH_BYTES` live in this thread's scratch buffer: valid until its next decode.
   */
  decode(bytes: Uint8Array, header: JpegHeader, shrink: 1 | 2 | 4 | 8): RgbPixels | undefined;
}

type Handle = unknown;
interface Binding {
  init(): Handle;
  header(handle: Handle, bytes: Uint8Array, size: number, ...out: number[][]): number;
  decode(
    handle: Handle,
    bytes: Uint8Array,
    size: number,
    out: Uint8Array,
    width: number,
    pitch: number,
    height: number,
    format: number,
    flags: number,
  ): number;
}

function bind(): Binding {
  const library = koffi.load(TURBOJPEG_LIBRARY);
  const init = library.func('void *tjInitDecompress()');
  const header = library.func(
    'int tjDecompressHeader3(void *handle, const uint8_t *jpeg, unsigned long size, _Out_ int *width, _Out_ int *height, _Out_ int *subsampling, _Out_ int *colorspace)',
  );
  const decode = library.func(
    'int tjDecompress2(void *handle, const uint8_t *jpeg, unsigned long size, uint8_t *out, int width, int pitch, int height, int format, int flags)',
  );
  return {
    init: () => init() as Handle,
    header: (handle, bytes, size, ...out) => header(handle, bytes, size, ...out) as number,
    decode: (...args) => decode(...args) as number,
  };
}

/** TJSCALED: a dimension decoded at 1/`shrink`, rounded up as libjpeg-turbo does. */
function scaledSize(size: number, shrink: number): number {
  return Math.ceil(size / shrink);
}

class TurboJpegDecoder implements TurboJpeg {
  private scratch = new Uint8Array(new ArrayBuffer(0));

  /** One decompressor for this thread's decoder (loaded once per thread), reused: it is never shared across threads. */
  constructor(
    private readonly binding: Binding,
    private readonly handle: Handle,
  ) {}

  header(bytes: Uint8Array): JpegHeader | undefined {
    const [width, height, subsampling, colorspace] = [[0], [0], [0], [0]];
    if (
      this.binding.header(this.handle, bytes, bytes.byteLength, width, height, subsampling, colorspace) !== 0
    )
      return undefined;
    return { width: width[0], height: height[0], cmyk: CMYK_COLORSPACES.has(colorspace[0]) };
  }

  decode(bytes: Uint8Array, header: JpegHeader, shrink: 1 | 2 | 4 | 8): RgbPixels | undefined {
    const width = scaledSize(header.width, shrink);
    const height = scaledSize(header.height, shrink);
    const data = this.output(width * height * 3);
    const status = this.binding.decode(
      this.handle,
      bytes,
      bytes.byteLength,
      data,
      width,
      0,
      height,
      PIXEL_FORMAT_RGB,
      DECODE_FLAGS,
    );
    // -1 also for warnings (a truncated file, corrupt data) and for CMYK, which TurboJPEG cannot turn into RGB:
    // libvips then decides what such a file gives.
    return status === 0 ? { data, width, height } : undefined;
  }

  private output(bytes: number): Uint8Array<ArrayBuffer> {
    if (bytes > SCRATCH_BYTES) return new Uint8Array(new ArrayBuffer(bytes));
    if (this.scratch.byteLength < bytes) this.scratch = new Uint8Array(new ArrayBuffer(bytes));
    return this.scratch.subarray(0, bytes);
  }
}

let loaded: { turbo?: TurboJpeg; reason?: string } | undefined;

/** TurboJPEG when the system has it (loaded once per thread), else why not. */
export function loadTurboJpeg(): { turbo?: TurboJpeg; reason?: string } {
  if (!loaded) {
    try {
      const binding = bind();
      const handle = binding.init();
      if (!handle) throw new Error('tjInitDecompress failed');
      loaded = { turbo: new TurboJpegDecoder(binding, handle) };
    } catch (error) {
      loaded = { reason: `${TURBOJPEG_LIBRARY} could not be loaded (${(error as Error).message})` };
    }
  }
  return loaded;
}
