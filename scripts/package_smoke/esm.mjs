import * as affinity from '@wsss/affinity';
import * as cam from '@wsss/cam';
import * as core from '@wsss/core';
import * as crf from '@wsss/crf';
import * as datasets from '@wsss/datasets';
import * as labelReassign from '@wsss/label-reassign';
import * as models from '@wsss/models';
import smoke from './smoke_body.cjs';

console.log(await smoke({ core, datasets, models, cam, crf, affinity, labelReassign }, 'ESM'));
