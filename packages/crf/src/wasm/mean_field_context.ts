import type { KernelArena } from './kernel_arena';

/** Slot indices of the mean-field context, read from the globals that assembly/mean_field_context.ts exports. */
type Layout = Record<string, number>;

let layout: Layout | undefined;

function contextLayout(arena: KernelArena): Layout {
  if (!layout) {
    layout = {};
    for (const [name, value] of Object.entries(arena.exports)) {
      if (value instanceof WebAssembly.Global) layout[name] = value.value;
    }
  }
  return layout;
}

/**
 * The i32 slots of one dense-CRF inference (see assembly/mean_field_context.ts), kept in JavaScript and copied into
 * the arena with {@link MeanFieldContext.write} before the kernels read them and back with {@link MeanFieldContext.read}
 * after they ran. Slots are named as the assembly
 * exports them: `CTX_*` for the whole inference, `TERM_*` per pairwise term.
 */
export class MeanFieldContext {
  /** Address of the context in the arena. */
  readonly at: number;
  private readonly layout: Layout;
  private readonly slots: Int32Array;
  private readonly floats: Float32Array;

  constructor(
    private readonly arena: KernelArena,
    terms: number,
  ) {
    this.layout = contextLayout(arena);
    if (terms > this.layout.CTX_MAX_TERMS) {
      throw new Error(
        `DenseCrf: at most ${this.layout.CTX_MAX_TERMS} pairwise terms are supported, got ${terms}`,
      );
    }
    this.slots = new Int32Array(this.layout.CTX_TERM_BASE + this.layout.CTX_TERM_SLOTS * terms);
    this.floats = new Float32Array(this.slots.buffer);
    this.at = arena.alloc(this.slots.byteLength);
  }

  private index(name: string, term?: number): number {
    const slot = this.layout[name];
    if (slot === undefined) throw new Error(`@wsss/crf: the kernels have no context slot ${name}`);
    return term === undefined ? slot : this.layout.CTX_TERM_BASE + term * this.layout.CTX_TERM_SLOTS + slot;
  }

  set(name: `CTX_${string}`, value: number): void {
    this.slots[this.index(name)] = value;
  }

  setFloat(name: `CTX_${string}`, value: number): void {
    this.floats[this.index(name)] = value;
  }

  get(name: `CTX_${string}`): number {
    return this.slots[this.index(name)];
  }

  setTerm(term: number, name: `TERM_${string}`, value: number): void {
    this.slots[this.index(name, term)] = value;
  }

  setTermFloat(term: number, name: `TERM_${string}`, value: number): void {
    this.floats[this.index(name, term)] = value;
  }

  term(term: number, name: `TERM_${string}`): number {
    return this.slots[this.index(name, term)];
  }

  /** Copies every slot into the arena. */
  write(): void {
    this.arena.i32(this.at, this.slots.length).set(this.slots);
  }

  /**
   * Copies every slot back from the arena, where the kernels wrote some of them (points per term, the NaN flag):
   * call it after every kernel run, before the next {@link MeanFieldContext.write}, which would otherwise put stale
   * values back over what the kernels wrote.
   */
  read(): void {
    this.slots.set(this.arena.i32(this.at, this.slots.length));
  }
}
