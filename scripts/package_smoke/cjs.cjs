const smoke = require('./smoke_body.cjs');

const modules = {
  core: require('@wsss/core'),
  datasets: require('@wsss/datasets'),
  models: require('@wsss/models'),
  cam: require('@wsss/cam'),
  crf: require('@wsss/crf'),
  affinity: require('@wsss/affinity'),
  labelReassign: require('@wsss/label-reassign'),
};
smoke(modules, 'CJS').then(
  (line) => console.log(line),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
