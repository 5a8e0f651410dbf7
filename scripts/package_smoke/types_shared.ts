import type { CrfResult } from '@wsss/crf';

export type MeanFieldLabels = CrfResult;
