import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a layout check found for one split. */
export interface SplitCheck {
  split: string;
  ids: number;
  missingImages: string[];
  missingMasks: string[];
}

export interface DatasetCheck {
  layout: 'voc' | 'camvid';
  root: string;
  splits: SplitCheck[];
  /** Files or folders the layout needs that are absent. */
  missing: string[];
}

function ids(list: string): string[] {
  return readFileSync(list, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim().split(/\s+/)[0])
    .filter(Boolean)
    .map((first) => first.slice(first.lastIndexOf('/') + 1).replace(/\.(jpg|jpeg|png)$/i, ''));
}

/** Names in `dir` without extension (empty when the folder is absent). */
function stems(dir: string): Set<string> {
  return new Set(existsSync(dir) ? readdirSync(dir).map((f) => f.replace(/\.[^.]+$/, '')) : []);
}

/**
 * Checks a dataset folder's layout without decoding anything: which layout it is (VOC 2012 or CamVid's SegNet
 * layout), each split's ids, and which images and masks its lists name but the folders lack.
 */
export function checkDatasetLayout(root: string, layout?: 'voc' | 'camvid'): DatasetCheck {
  const kind =
    layout ??
    (existsSync(join(root, 'ImageSets', 'Segmentation'))
      ? 'voc'
      : existsSync(join(root, 'train.txt')) || existsSync(join(root, 'trainannot'))
        ? 'camvid'
        : undefined);
  if (!kind) {
    throw new Error(
      `${root} is neither a VOC2012 folder (ImageSets/Segmentation/) nor a CamVid folder (train.txt, trainannot/); pass --dataset`,
    );
  }
  const missing: string[] = [];
  const splits: SplitCheck[] = [];
  if (kind === 'voc') {
    const lists = join(root, 'ImageSets', 'Segmentation');
    const masksDir = existsSync(join(root, 'SegmentationClassAug'))
      ? 'SegmentationClassAug'
      : 'SegmentationClass';
    for (const need of ['JPEGImages', masksDir, 'ImageSets/Segmentation'])
      if (!existsSync(join(root, need))) missing.push(need);
    if (
      !existsSync(join(root, 'cls_labels.npy')) &&
      !existsSync(join(root, '..', 'labels', 'cls_labels.npy'))
    ) {
      missing.push('cls_labels.npy (image-level labels; or use labelSource: masks)');
    }
    const images = stems(join(root, 'JPEGImages'));
    const masks = stems(join(root, masksDir));
    for (const split of ['train', 'val', 'trainval', 'train_aug', 'test']) {
      const list = join(lists, `${split}.txt`);
      if (!existsSync(list)) continue;
      const splitIds = ids(list);
      splits.push({
        split,
        ids: splitIds.length,
        missingImages: splitIds.filter((id) => !images.has(id)),
        missingMasks: split === 'test' ? [] : splitIds.filter((id) => !masks.has(id)),
      });
    }
  } else {
    if (!existsSync(join(root, 'classes.txt'))) missing.push('classes.txt');
    for (const split of ['train', 'val', 'test']) {
      const list = join(root, `${split}.txt`);
      if (!existsSync(list)) {
        missing.push(`${split}.txt`);
        continue;
      }
      const splitIds = ids(list);
      const images = stems(join(root, split));
      const masks = stems(join(root, `${split}annot`));
      splits.push({
        split,
        ids: splitIds.length,
        missingImages: splitIds.filter((id) => !images.has(id)),
        missingMasks: splitIds.filter((id) => !masks.has(id)),
      });
    }
  }
  return { layout: kind, root, splits, missing };
}

/** The check as lines of text, and whether everything is there. */
export function describeDatasetCheck(check: DatasetCheck): { lines: string[]; complete: boolean } {
  const lines = [`${check.root}: ${check.layout === 'voc' ? 'PASCAL VOC 2012' : 'CamVid (SegNet layout)'}`];
  for (const m of check.missing) lines.push(`  missing: ${m}`);
  const sample = (list: string[]) =>
    `${list.slice(0, 3).join(', ')}${list.length > 3 ? `, ... (${list.length})` : ''}`;
  for (const s of check.splits) {
    const problems = [
      s.missingImages.length ? `${s.missingImages.length} images missing (${sample(s.missingImages)})` : '',
      s.missingMasks.length ? `${s.missingMasks.length} masks missing (${sample(s.missingMasks)})` : '',
    ].filter(Boolean);
    lines.push(
      `  ${s.split.padEnd(10)} ${String(s.ids).padStart(6)} ids${problems.length ? `: ${problems.join('; ')}` : ': complete'}`,
    );
  }
  const complete =
    check.missing.length === 0 &&
    check.splits.every((s) => !s.missingImages.length && !s.missingMasks.length);
  return { lines, complete };
}
