/**
 * A reader for NumPy `.npy` files: numeric arrays (`<f4`, `<f8`, `|u1`, `<i4`, ...) and the pickled-object form
 * (`|O`, shape `()`) that psa/IRN use for `cls_labels.npy` (a dict `id -> float32[20]`). The pickle subset that
 * numpy writes for dicts of small arrays is interpreted here; anything else is rejected, nothing is executed.
 */

export type NpyValue =
  | NpyArray
  | Map<unknown, unknown>
  | unknown[]
  | string
  | number
  | boolean
  | null
  | Uint8Array;

export interface NpyArray {
  dtype: string;
  shape: number[];
  data:
    | Float32Array
    | Float64Array
    | Int32Array
    | Uint8Array
    | Int8Array
    | Int16Array
    | Uint16Array
    | BigInt64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses `.npy` bytes. `name` is used in error messages. */
export function parseNpy(bytes: Uint8Array, name = '<buffer>'): NpyValue {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error(`parseNpy: ${name} is not a .npy file (missing \\x93NUMPY magic)`);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined)
    throw new Error(`parseNpy: ${name} has a malformed header: ${header}`);
  if (fortran) throw new Error(`parseNpy: ${name} is Fortran-ordered, which is not supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const body = bytes.subarray(headerStart + headerLen);
  if (descr === '|O') return new PickleReader(body, name).load();
  return { dtype: descr, shape, data: typedArray(descr, body, shape, name) };
}

function typedArray(descr: string, body: Uint8Array, shape: number[], name: string): NpyArray['data'] {
  const count = shape.reduce((a, b) => a * b, 1);
  const kinds: Record<string, [new (b: ArrayBuffer) => NpyArray['data'], number]> = {
    f4: [Float32Array, 4],
    f8: [Float64Array, 8],
    i4: [Int32Array, 4],
    i8: [BigInt64Array, 8],
    u1: [Uint8Array, 1],
    i1: [Int8Array, 1],
    i2: [Int16Array, 2],
    u2: [Uint16Array, 2],
    b1: [Uint8Array, 1],
  };
  const order = descr[0];
  const kind = kinds[descr.slice(1)];
  if (!kind || order === '>') throw new Error(`parseNpy: ${name} has unsupported dtype '${descr}'`);
  const [Ctor, size] = kind;
  if (body.length < count * size)
    throw new Error(`parseNpy: ${name} is truncated (${body.length} < ${count * size} bytes)`);
  const copy = body.slice(0, count * size);
  return new Ctor(copy.buffer);
}

interface Global {
  global: string;
}
interface Reconstructed {
  ndarray: true;
  dtype?: string;
  shape?: number[];
  /** Raw bytes of a numeric array. */
  data?: Uint8Array;
  /** Elements of an object array. */
  items?: unknown[];
}
interface DType {
  dtypeOf: string;
}
const MARK = Symbol('mark');

class PickleReader {
  private pos = 0;
  private stack: unknown[] = [];
  private memo = new Map<number, unknown>();
  private view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly name: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  load(): NpyValue {
    for (;;) {
      const op = this.bytes[this.pos++];
      switch (op) {
        case 0x80: // PROTO
          this.pos++;
          break;
        case 0x63: {
          // GLOBAL "module\nname\n"
          const module = this.readLine();
          const name = this.readLine();
          this.stack.push({ global: `${module}.${name}` } satisfies Global);
          break;
        }
        case 0x71: // BINPUT
          this.memo.set(this.bytes[this.pos++], this.stack[this.stack.length - 1]);
          break;
        case 0x72: // LONG_BINPUT
          this.memo.set(this.view.getUint32(this.pos, true), this.stack[this.stack.length - 1]);
          this.pos += 4;
          break;
        case 0x68: // BINGET
          this.stack.push(this.memo.get(this.bytes[this.pos++]));
          break;
        case 0x6a: // LONG_BINGET
          this.stack.push(this.memo.get(this.view.getUint32(this.pos, true)));
          this.pos += 4;
          break;
        case 0x4b: // BININT1
          this.stack.push(this.bytes[this.pos++]);
          break;
        case 0x4d: // BININT2
          this.stack.push(this.view.getUint16(this.pos, true));
          this.pos += 2;
          break;
        case 0x4a: // BININT
          this.stack.push(this.view.getInt32(this.pos, true));
          this.pos += 4;
          break;
        case 0x58: {
          // BINUNICODE
          const len = this.view.getUint32(this.pos, true);
          this.pos += 4;
          this.stack.push(new TextDecoder('utf-8').decode(this.bytes.subarray(this.pos, this.pos + len)));
          this.pos += len;
          break;
        }
        case 0x8c: {
          // SHORT_BINUNICODE
          const len = this.bytes[this.pos++];
          this.stack.push(new TextDecoder('utf-8').decode(this.bytes.subarray(this.pos, this.pos + len)));
          this.pos += len;
          break;
        }
        case 0x43: {
          // SHORT_BINBYTES
          const len = this.bytes[this.pos++];
          this.stack.push(this.bytes.slice(this.pos, this.pos + len));
          this.pos += len;
          break;
        }
        case 0x42: {
          // BINBYTES
          const len = this.view.getUint32(this.pos, true);
          this.pos += 4;
          this.stack.push(this.bytes.slice(this.pos, this.pos + len));
          this.pos += len;
          break;
        }
        case 0x28: // MARK
          this.stack.push(MARK);
          break;
        case 0x29: // EMPTY_TUPLE
          this.stack.push([]);
          break;
        case 0x5d: // EMPTY_LIST
          this.stack.push([]);
          break;
        case 0x7d: // EMPTY_DICT
          this.stack.push(new Map());
          break;
        case 0x4e: // NONE
          this.stack.push(null);
          break;
        case 0x88: // NEWTRUE
          this.stack.push(true);
          break;
        case 0x89: // NEWFALSE
          this.stack.push(false);
          break;
        case 0x85: // TUPLE1
          this.stack.push(this.stack.splice(-1));
          break;
        case 0x86: // TUPLE2
          this.stack.push(this.stack.splice(-2));
          break;
        case 0x87: // TUPLE3
          this.stack.push(this.stack.splice(-3));
          break;
        case 0x74: // TUPLE
          this.stack.push(this.popToMark());
          break;
        case 0x61: {
          // APPEND
          const item = this.stack.pop();
          (this.stack[this.stack.length - 1] as unknown[]).push(item);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = this.popToMark();
          (this.stack[this.stack.length - 1] as unknown[]).push(...items);
          break;
        }
        case 0x73: {
          // SETITEM
          const value = this.stack.pop();
          const key = this.stack.pop();
          (this.stack[this.stack.length - 1] as Map<unknown, unknown>).set(key, value);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = this.popToMark();
          const dict = this.stack[this.stack.length - 1] as Map<unknown, unknown>;
          for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
          break;
        }
        case 0x52: {
          // REDUCE
          const args = this.stack.pop() as unknown[];
          const callable = this.stack.pop() as Global;
          this.stack.push(this.call(callable, args));
          break;
        }
        case 0x62: {
          // BUILD
          const state = this.stack.pop() as unknown[];
          this.build(this.stack[this.stack.length - 1], state);
          break;
        }
        case 0x2e: {
          // STOP
          return finish(this.stack.pop());
        }
        default:
          throw new Error(
            `parseNpy: ${this.name} uses pickle opcode 0x${(op ?? 0).toString(16)} at byte ${this.pos - 1}, ` +
              'which this reader does not support (it reads numpy object arrays of dicts of arrays)',
          );
      }
    }
  }

  private readLine(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    const text = new TextDecoder('latin1').decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  private popToMark(): unknown[] {
    const at = this.stack.lastIndexOf(MARK);
    const items = this.stack.splice(at + 1);
    this.stack.pop();
    return items;
  }

  private call(callable: Global, args: unknown[]): unknown {
    switch (callable?.global) {
      case '_codecs.encode':
        return Uint8Array.from(String(args[0]), (ch) => ch.charCodeAt(0) & 0xff);
      case 'numpy.core.multiarray._reconstruct':
      case 'numpy._core.multiarray._reconstruct':
        return { ndarray: true } satisfies Reconstructed;
      case 'numpy.dtype':
        return { dtypeOf: String(args[0]) } satisfies DType;
      default:
        throw new Error(`parseNpy: ${this.name} calls ${callable?.global}, which this reader does not allow`);
    }
  }

  private build(target: unknown, state: unknown[]): void {
    const t = target as Partial<Reconstructed> & Partial<DType> & { endian?: string };
    if (t.dtypeOf !== undefined) {
      t.endian = String(state[1]);
      return;
    }
    if (t.ndarray) {
      const [, shape, dtype, , data] = state as [
        number,
        number[],
        DType & { endian?: string },
        boolean,
        unknown,
      ];
      t.shape = shape;
      t.dtype = `${dtype.endian === '|' ? '|' : '<'}${dtype.dtypeOf}`;
      if (data instanceof Uint8Array) t.data = data;
      else if (Array.isArray(data)) t.items = data;
      if (dtype.endian === '>')
        throw new Error(`parseNpy: ${this.name} holds big-endian arrays, not supported`);
    }
  }
}

function finish(value: unknown): NpyValue {
  const v = value as Reconstructed;
  if (v && typeof v === 'object' && v.ndarray) {
    if (v.items) return v.shape?.length === 0 ? finish(v.items[0]) : v.items.map(finish);
    if (!v.data) throw new Error('parseNpy: a pickled array carries no data');
    return {
      dtype: v.dtype!,
      shape: v.shape!,
      data: typedArray(v.dtype!, v.data, v.shape!, 'pickled array'),
    };
  }
  if (value instanceof Map) {
    const out = new Map<unknown, unknown>();
    for (const [k, x] of value) out.set(k, finish(x));
    return out;
  }
  if (Array.isArray(value)) return value.map(finish);
  return value as NpyValue;
}
