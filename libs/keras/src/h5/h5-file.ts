import { open, stat } from 'node:fs/promises';
import type * as H5Wasm from 'h5wasm';
import { KerasModelError } from '../keras-model-error';
import { decodeFloat16 } from './float16';
import { checkHdf5Header, HDF5_HEADER_BYTES } from './hdf5-header';

type H5Module = typeof H5Wasm;

let loading: Promise<H5Module> | undefined;

/** h5wasm's Node build (host filesystem through NODERAWFS), loaded on first use only. */
function loadH5Wasm(): Promise<H5Module> {
  loading ??= (async () => {
    const h5 = await import('h5wasm/node');
    await h5.ready;
    return h5;
  })();
  return loading;
}

export interface H5Limits {
  /** Largest file accepted. */
  maxFileBytes: number;
  /** Largest string attribute accepted (the model config is one). */
  maxAttributeChars: number;
}

export interface WeightArray {
  shape: number[];
  data: Float32Array;
}

const H5T_INTEGER = 0;
const H5T_FLOAT = 1;

/** A Keras `.h5` opened read-only; every read checks what it gets instead of trusting the file. */
export class H5File {
  private constructor(
    private readonly h5: H5Module,
    private readonly file: H5Wasm.File,
    readonly path: string,
    private readonly limits: H5Limits,
  ) {}

  static async open(path: string, limits: H5Limits): Promise<H5File> {
    const refuse = (why: string): never => {
      throw new KerasModelError(`The Keras file ${path} cannot be used: ${why}.`);
    };
    const { size } = await stat(path);
    if (size > limits.maxFileBytes) {
      refuse(
        `it has ${size} bytes, more than the ${limits.maxFileBytes} this service accepts for a .h5 model`,
      );
    }
    const head = Buffer.alloc(HDF5_HEADER_BYTES);
    const handle = await open(path, 'r');
    try {
      await handle.read(head, 0, HDF5_HEADER_BYTES, 0);
    } finally {
      await handle.close();
    }
    const headerProblem = checkHdf5Header(head, size);
    if (headerProblem) refuse(headerProblem);
    const h5 = await loadH5Wasm();
    const file = new h5.File(path, 'r');
    if (file.file_id < 0n) refuse('the HDF5 library cannot open it (corrupt or not an HDF5 file)');
    return new H5File(h5, file, path, limits);
  }

  close(): void {
    this.file.close();
  }

  private entity(path: string): H5Wasm.Entity | null {
    try {
      return this.file.get(path);
    } catch {
      return null;
    }
  }

  group(path: string): H5Wasm.Group | undefined {
    const entity = this.entity(path);
    return entity instanceof this.h5.Group ? entity : undefined;
  }

  private attributeNames(path: string): string[] {
    const group = this.group(path);
    return group ? Object.keys(group.attrs) : [];
  }

  /** A string attribute (e.g. `model_config`), or undefined when absent. */
  stringAttribute(path: string, name: string): string | undefined {
    const group = this.group(path);
    if (!group || !Object.keys(group.attrs).includes(name)) return undefined;
    const attribute = group.attrs[name];
    const { metadata } = attribute;
    if (metadata.type !== this.h5.Module.H5T_class_t.H5T_STRING.value || (metadata.shape?.length ?? 0) > 1) {
      throw new KerasModelError(
        `The Keras file ${this.path} has a "${name}" attribute that is not a string.`,
      );
    }
    if (!metadata.vlen && metadata.size > this.limits.maxAttributeChars) this.tooLarge(name);
    const value = attribute.value;
    const text = Array.isArray(value) ? value[0] : value;
    if (typeof text !== 'string') {
      throw new KerasModelError(
        `The Keras file ${this.path} has a "${name}" attribute that is not a string.`,
      );
    }
    if (text.length > this.limits.maxAttributeChars) this.tooLarge(name);
    return text;
  }

  private tooLarge(name: string): never {
    throw new KerasModelError(
      `The Keras file ${this.path} has a "${name}" attribute larger than ${this.limits.maxAttributeChars} characters, which no image model needs.`,
    );
  }

  /**
   * A list-of-strings attribute as Keras saves it (`save_attributes_to_hdf5_group`): either `name`, or, when
   * too long for one HDF5 object header, chunks `name0`, `name1`, ... in order.
   */
  stringListAttribute(path: string, name: string): string[] {
    const names = this.attributeNames(path);
    const group = this.group(path)!;
    const read = (attributeName: string): string[] => {
      const value = group.attrs[attributeName].value;
      if (value instanceof Float64Array && value.length === 0) return []; // h5py writes [] as an empty float array
      const list = Array.isArray(value) ? value : [value];
      if (!list.every((item): item is string => typeof item === 'string')) {
        throw new KerasModelError(
          `The Keras file ${this.path} has a "${attributeName}" attribute that is not a list of names.`,
        );
      }
      return list;
    };
    if (names.includes(name)) return read(name);
    const chunks: string[] = [];
    for (let chunk = 0; names.includes(`${name}${chunk}`); chunk++) chunks.push(...read(`${name}${chunk}`));
    return chunks;
  }

  /** Shape of a numeric dataset without reading its data, or undefined when there is no such dataset. */
  datasetShape(path: string): number[] | undefined {
    const entity = this.entity(path);
    if (!(entity instanceof this.h5.Dataset)) return undefined;
    return entity.metadata.shape ?? undefined;
  }

  /**
   * Reads a numeric dataset as float32. h5wasm's own reader has no float16 (which `mixed_float16` models
   * use for some variables) and ignores the read status, so this reads the raw little-endian bytes itself.
   */
  readWeight(path: string): WeightArray {
    const entity = this.entity(path);
    if (!(entity instanceof this.h5.Dataset)) {
      throw new KerasModelError(`The Keras file ${this.path} has no weight dataset "${path}".`);
    }
    const { metadata } = entity;
    const shape = metadata.shape ?? [];
    const { Module } = this.h5;
    const numeric = metadata.type === H5T_FLOAT || metadata.type === H5T_INTEGER;
    if (!numeric || metadata.vlen || ![1, 2, 4, 8].includes(metadata.size)) {
      throw new KerasModelError(`Weight "${path}" in ${this.path} is not a plain numeric array.`);
    }
    const count = metadata.total_size;
    const bytes = count * metadata.size;
    const pointer = Module._malloc(Math.max(1, bytes));
    if (!pointer) throw new KerasModelError(`Weight "${path}" in ${this.path} does not fit in memory.`);
    let raw: Uint8Array;
    try {
      const status = Module.get_dataset_data(
        this.file.file_id,
        entity.path,
        null,
        null,
        null,
        BigInt(pointer),
      );
      if (status < 0)
        throw new KerasModelError(`Weight "${path}" in ${this.path} cannot be read: the file is damaged.`);
      raw = Module.HEAPU8.slice(pointer, pointer + bytes);
    } finally {
      Module._free(pointer);
    }
    return { shape, data: toFloat32(raw, metadata.type === H5T_FLOAT, metadata.size, metadata.signed, path) };
  }
}

function toFloat32(
  raw: Uint8Array,
  isFloat: boolean,
  size: number,
  signed: boolean,
  path: string,
): Float32Array {
  const buffer = raw.buffer as ArrayBuffer;
  if (isFloat) {
    if (size === 4) return new Float32Array(buffer);
    if (size === 8) return Float32Array.from(new Float64Array(buffer));
    if (size === 2) return decodeFloat16(raw);
    throw new KerasModelError(`Weight "${path}" has ${size * 8}-bit floats, which are not supported.`);
  }
  const ints =
    size === 8
      ? signed
        ? new BigInt64Array(buffer)
        : new BigUint64Array(buffer)
      : size === 4
        ? signed
          ? new Int32Array(buffer)
          : new Uint32Array(buffer)
        : size === 2
          ? signed
            ? new Int16Array(buffer)
            : new Uint16Array(buffer)
          : signed
            ? new Int8Array(buffer)
            : new Uint8Array(buffer);
  return Float32Array.from(ints as ArrayLike<number | bigint>, Number);
}
