import { main } from '@wsss/cli';

/** Runs `wsss <args>` in this process; returns the exit code and what it wrote. */
export async function wsss(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}
