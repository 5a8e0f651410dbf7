import { formatDuration, Progress, tf } from '@wsss/core';
import { expectNoLeaks, relativeError, withNoLeaks } from '@wsss/core/testing';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (t: string) => writes.push(t) } };
}

describe('Progress', () => {
  it('prints rate-limited plain lines with ETA when not a terminal', () => {
    let now = 0;
    const { writes, stream } = fakeStream(false);
    const p = new Progress(10, { label: 'train', stream, lineIntervalMs: 1000, now: () => now });
    for (let i = 0; i < 10; i++) {
      now += 250;
      p.tick({ loss: 0.123456 });
    }
    // The first step at once, then at most one line per second (t = 1250, 2250), and always the last step.
    expect(writes).toEqual([
      'train 1/10 (10%) 4.00/s elapsed 0s eta 2s loss 0.1235\n',
      'train 5/10 (50%) 4.00/s elapsed 1s eta 1s loss 0.1235\n',
      'train 9/10 (90%) 4.00/s elapsed 2s eta 0s loss 0.1235\n',
      'train 10/10 (100%) 4.00/s elapsed 3s eta 0s loss 0.1235\n',
    ]);
  });

  it('redraws one line on a terminal, and counts resumed steps in the position but not the rate', () => {
    let now = 0;
    const { writes, stream } = fakeStream(true);
    const p = new Progress(100, { stream, now: () => now }, 50);
    now = 2000;
    p.tick({}, 10);
    p.done();
    expect(writes[0]).toBe('\r[############........] 60/100 (60%) 5.00/s elapsed 2s eta 8s\x1b[K');
    expect(writes[1]).toBe('\n');
  });

  it('formats durations', () => {
    expect(formatDuration(75)).toBe('1m15s');
    expect(formatDuration(3725)).toBe('1h02m05s');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});

describe('leak checks', () => {
  it('pass a tidy loop and dispose returned tensors', async () => {
    const x = tf.ones([4]);
    await expectNoLeaks(() => tf.tidy(() => tf.add(x, 1)));
    const kept = await withNoLeaks(() => tf.tidy(() => [tf.add(x, 1), tf.mul(x, 2)]));
    expect(kept).toHaveLength(2);
    tf.dispose([x, ...kept]);
  });

  it('catch a tensor that escapes each call', async () => {
    const x = tf.ones([4]);
    const leaked: tf.Tensor[] = [];
    await expect(
      expectNoLeaks(() => {
        leaked.push(tf.add(x, 1));
      }),
    ).rejects.toThrow(/tensor leak: .* \(1 tensors per call\)/);
    await expect(
      withNoLeaks(() =>
        tf.tidy(() => {
          tf.keep(tf.add(x, 1));
          return tf.mul(x, 2);
        }),
      ),
    ).rejects.toThrow(/1 tensors left allocated besides the 1 returned/);
    tf.dispose([x, ...leaked]);
  });
});

describe('relativeError', () => {
  it('is the largest difference over max(1, the largest expected magnitude)', () => {
    expect(relativeError([1, 2.5, -4], [1, 2, -5])).toBeCloseTo(1 / 5, 12);
    expect(relativeError([0.1, 0.3], [0.1, 0.1])).toBeCloseTo(0.2, 12);
    expect(relativeError([], [])).toBe(0);
    expect(() => relativeError([1, 2], [1])).toThrow(/2 values against 1 expected/);
  });
});
