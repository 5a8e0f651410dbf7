import { existsSync } from 'node:fs';
import { checkDatasetLayout, type DatasetCheck, describeDatasetCheck } from '../datasets_check';
import { type Io, UsageError } from '../io';

export function datasetsCheckCommand(root: string, layout: string | undefined, io: Io): number {
  if (!existsSync(root)) throw new UsageError(`datasets check: ${root} does not exist`);
  if (layout !== undefined && layout !== 'voc' && layout !== 'camvid') {
    throw new UsageError(`datasets check: --dataset must be voc or camvid, got '${layout}'`);
  }
  let check: DatasetCheck;
  try {
    check = checkDatasetLayout(root, layout);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { lines, complete } = describeDatasetCheck(check);
  io.stdout.write(`${lines.join('\n')}\n`);
  return complete ? 0 : 1;
}
