import type { ParseArgsConfig } from 'node:util';
import { type CommandLine, numberOption, parseCommandLine } from './arguments';
import { benchCommand } from './commands/bench';
import { crfCommand } from './commands/crf';
import { datasetsCheckCommand } from './commands/datasets';
import { evalCommand } from './commands/eval';
import { camCommand, inferCommand } from './commands/predict';
import { mergeCommand, pipelinesCommand, resumeCommand, runCommand } from './commands/run';
import { type Io, UsageError } from './io';

const HELP: Record<string, string> = {
  wsss: `wsss: weakly supervised semantic segmentation on TensorFlow.js

usage: wsss <command> [options]      (wsss <command> --help for its options)

commands:
  run <pipeline>      run a pipeline (see 'wsss pipelines'), resuming its run folder when it exists
  resume <run-dir>    run a recorded run again from its first incomplete stage
  merge <run-dir>     complete the per-image stages that shards (run --shard k/n) have finished
  infer               segment images with the network a run trained
  cam                 the classes a run's classifier finds in images, with their CAMs
  crf                 refine folders of label maps with the dense CRF on their images
  datasets check <root>   check a VOC2012 or CamVid folder: splits, missing images and masks
  eval                score a folder of label PNGs against ground truth
  pipelines           list the pipelines
  bench               time the kernels (CRF, random walk, affinity losses, CAMs, a training step) on each backend
`,
  bench: `usage: wsss bench [options]

  Times each kernel on every backend that starts here (cpu, wasm, webgpu with an adapter, tensorflow with
  @tensorflow/tfjs-node): one warm-up, then --runs timed calls; prints a markdown table (median and interquartile
  range, ms) and the machine. The dense CRF runs on our own kernel whatever the backend, once.

  --backend <list>      backends to measure, e.g. wasm,cpu (default: all that start)
  --ops <list>          kernels: crf, random-walk, affinity-sa, affinity-aa, affinity-field, cross-task,
                        label-reassign, triplet-centre, cam-inference, training-step, train-step-os32,
                        train-step-os16 (default: all)
  --size <name>         standard (the reference implementations' shapes, default) or small (seconds)
  --runs <n>            timed calls per kernel and backend (default 5)
  --threads <n>         threads of our kernels: wasm backend and CRF (default: the cores here; the wasm
                        backend's count is fixed once it started in the process)
  --json <file>         also write the results, machine and versions as JSON
  --no-peers            do not run the peers (python3 with pydensecrf, PyTorch, SciPy: timed in the same run,
                        each of our rows gets its ratio; a peer that is not installed is skipped with the reason)
  --peer-threads <n>    threads the peers may use (default: --threads)
`,
  run: `usage: wsss run <pipeline> [options]

  --preset <name>       smoke (tiny, seconds), quick (default: minutes on a laptop), paper (the papers', for a GPU)
  --config <file>       config overrides, JSON or YAML (.yaml / .yml; unknown keys are errors)
  --set <key=value>     one override, e.g. --set classifier.steps=300 (repeatable; applied last)
  --dataset <name>      synthetic (built in), voc or camvid
  --data-root <dir>     the dataset's folder (VOC2012, CamVid)
  --weights <dir>       MobileNetV2 ImageNet weights (TF.js manifest folder)
  --out <dir>           where run folders go (default runs)
  --name <name>         the run folder's name (default <pipeline>-<preset>)
  --seed <n>            seed of every stage (default 0)
  --until <stage>       stop after this stage
  --backend <list>      tensorflow, webgpu, wasm or cpu (default: the fastest available)
  --shard <k/n>         run only share k (from 0) of n of the per-image stages, then stop (see wsss merge)
`,
  resume: `usage: wsss resume <run-dir> [--backend <list>]

  Runs the run recorded in <run-dir>/run.json again: complete stages are skipped, a stopped training stage continues
  from its last checkpoint.
`,
  eval: `usage: wsss eval --pred <dir> --gt <dir> [options]

  --pred <dir>          label PNGs to score (palette or grey indices), one per image
  --gt <dir>            ground-truth PNGs of the same names
  --classes <n|names|file>  number of classes, comma-separated names, or a file of names (default: from the labels)
  --ignore <value>      ground-truth value to skip (default 255)
  --background <value>  the background class, left out of "mIoU without background" (default 0; 'none')
`,
  merge: `usage: wsss merge <run-dir>

  Completes every per-image stage (CAMs, pseudo labels, evaluation) whose shards have all finished: scores are
  recomputed from the shards' summed confusion matrices. Then 'wsss resume <run-dir>' continues the run.
`,
  infer: `usage: wsss infer --run <run-dir> <image>... [--out <dir>] [--backend <list>]

  Segments the images (JPEG, PNG, BMP, ...) with the network the run trained (its configured scales, flips and CRF)
  and writes one palette PNG of labels per image into --out (default <run-dir>/infer).
`,
  datasets: `usage: wsss datasets check <root> [--dataset voc|camvid]

  Checks a dataset folder without decoding anything: its layout (detected, or --dataset), each split's ids, and the
  images and masks its lists name but the folders lack. Exit code 1 when something is missing.
`,
  cam: `usage: wsss cam --run <run-dir> <image>... [--out <dir>] [--threshold <p>] [--max-side <px>] [--backend <list>]

  Runs the classifier the run trained on each image: prints the classes whose sigmoid score reaches --threshold
  (default 0.5) and writes one CAM heat map over the image per such class (<image>_<class>.png) into --out
  (default <run-dir>/cam), with the run's CAM scales and flips. Images larger than --max-side (default 256) pixels
  are shrunk first.
`,
  crf: `usage: wsss crf --images <dir> --labels <dir> --out <dir> [options]

  Refines every label PNG of --labels with a dense CRF on the image of the same name in --images (IRN's CRF on hard
  labels: each pixel's label has probability --gt-prob, the ignore value is unsure) and writes it to --out.

  --preset <name>       CRF kernels: irn (default), psa, rrmInference, auxSegNet
  --gt-prob <p>         confidence of the given labels (default 0.7)
  --classes <n>         number of classes (default: from the labels)
  --ignore <value>      the unsure value (default 255)
`,
  pipelines: 'usage: wsss pipelines\n\n  Lists the registered pipelines.\n',
};

/** Parses a verb's options; a malformed command line is a usage error with exit code 2. */
function parse(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
  command: string,
): CommandLine {
  try {
    return parseCommandLine(args, options, `wsss ${command}`);
  } catch (err) {
    throw new UsageError((err as Error).message, 2);
  }
}

const integer = (text: string | undefined, flag: string, fallback: number) => {
  if (text === undefined) return fallback;
  if (!/^-?\d+$/.test(text)) throw new UsageError(`${flag} must be an integer, got '${text}'`);
  return Number(text);
};

/**
 * The `wsss` command: runs one command and returns its exit code (0 success, 1 a user error printed as one line,
 * 2 unknown command or option). Output goes to `io` (the terminal by default).
 */
export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.stdout.write(HELP.wsss);
      return command === undefined ? 2 : 0;
    }
    if (!(command in HELP) || command === 'wsss') {
      io.stderr.write(`wsss: unknown command '${command}'\n\n${HELP.wsss}`);
      return 2;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(HELP[command]);
      return 0;
    }
    if (command === 'run') {
      const { values, positionals } = parse(
        rest,
        {
          preset: { type: 'string' },
          config: { type: 'string' },
          set: { type: 'string', multiple: true },
          dataset: { type: 'string' },
          'data-root': { type: 'string' },
          weights: { type: 'string' },
          out: { type: 'string' },
          name: { type: 'string' },
          seed: { type: 'string' },
          until: { type: 'string' },
          backend: { type: 'string' },
          shard: { type: 'string' },
        },
        'run',
      );
      if (positionals.length !== 1)
        throw new UsageError('run: name one pipeline (wsss pipelines lists them)');
      await runCommand(
        {
          pipeline: positionals[0],
          preset: values.preset as string | undefined,
          config: values.config as string | undefined,
          dataset: values.dataset as string | undefined,
          dataRoot: values['data-root'] as string | undefined,
          weights: values.weights as string | undefined,
          out: (values.out as string | undefined) ?? 'runs',
          name: values.name as string | undefined,
          sets: (values.set as string[] | undefined) ?? [],
          seed: integer(values.seed as string | undefined, '--seed', 0),
          until: values.until as string | undefined,
          backend: values.backend as string | undefined,
          shard: values.shard as string | undefined,
        },
        io,
      );
    } else if (command === 'resume') {
      const { values, positionals } = parse(rest, { backend: { type: 'string' } }, 'resume');
      if (positionals.length !== 1) throw new UsageError('resume: name one run folder');
      await resumeCommand(positionals[0], values.backend as string | undefined, io);
    } else if (command === 'merge') {
      const { positionals } = parse(rest, {}, 'merge');
      if (positionals.length !== 1) throw new UsageError('merge: name one run folder');
      await mergeCommand(positionals[0], io);
    } else if (command === 'datasets') {
      const { values, positionals } = parse(rest, { dataset: { type: 'string' } }, 'datasets');
      if (positionals[0] !== 'check' || positionals.length !== 2)
        throw new UsageError('datasets: usage: wsss datasets check <root>', 2);
      return datasetsCheckCommand(positionals[1], values.dataset as string | undefined, io);
    } else if (command === 'cam') {
      const { values, positionals } = parse(
        rest,
        {
          run: { type: 'string' },
          out: { type: 'string' },
          threshold: { type: 'string' },
          backend: { type: 'string' },
        },
        'cam',
      );
      if (!values.run) throw new UsageError('cam: --run <run-dir> is required');
      await camCommand(
        {
          run: values.run as string,
          images: positionals,
          out: values.out as string | undefined,
          threshold: numberOption(values, 'threshold', 0.5),
          maxSide: numberOption(values, 'max-side', 256),
          backend: values.backend as string | undefined,
        },
        io,
      );
    } else if (command === 'crf') {
      const { values, positionals } = parse(
        rest,
        {
          images: { type: 'string' },
          labels: { type: 'string' },
          out: { type: 'string' },
          preset: { type: 'string' },
          'gt-prob': { type: 'string' },
          classes: { type: 'string' },
          ignore: { type: 'string' },
        },
        'crf',
      );
      if (positionals.length) throw new UsageError(`crf: unexpected argument '${positionals[0]}'`);
      if (!values.images || !values.labels || !values.out) {
        throw new UsageError('crf: --images <dir>, --labels <dir> and --out <dir> are required');
      }
      await crfCommand(
        {
          images: values.images as string,
          labels: values.labels as string,
          out: values.out as string,
          preset: (values.preset as string | undefined) ?? 'irn',
          gtProb: numberOption(values, 'gt-prob', 0.7),
          classes:
            values.classes === undefined ? undefined : integer(values.classes as string, '--classes', 0),
          ignore: integer(values.ignore as string | undefined, '--ignore', 255),
        },
        io,
      );
    } else if (command === 'infer') {
      const { values, positionals } = parse(
        rest,
        { run: { type: 'string' }, out: { type: 'string' }, backend: { type: 'string' } },
        'infer',
      );
      if (!values.run) throw new UsageError('infer: --run <run-dir> is required');
      await inferCommand(
        {
          run: values.run as string,
          images: positionals,
          out: values.out as string | undefined,
          backend: values.backend as string | undefined,
        },
        io,
      );
    } else if (command === 'eval') {
      const { values, positionals } = parse(
        rest,
        {
          pred: { type: 'string' },
          gt: { type: 'string' },
          classes: { type: 'string' },
          ignore: { type: 'string' },
          background: { type: 'string' },
        },
        'eval',
      );
      if (positionals.length) throw new UsageError(`eval: unexpected argument '${positionals[0]}'`);
      if (!values.pred || !values.gt) throw new UsageError('eval: --pred <dir> and --gt <dir> are required');
      const background = values.background as string | undefined;
      await evalCommand(
        {
          pred: values.pred as string,
          gt: values.gt as string,
          classes: values.classes as string | undefined,
          ignore: integer(values.ignore as string | undefined, '--ignore', 255),
          background: background === 'none' ? null : integer(background, '--background', 0),
        },
        io,
      );
    } else if (command === 'bench') {
      const { values, positionals } = parse(
        rest,
        {
          backend: { type: 'string' },
          ops: { type: 'string' },
          size: { type: 'string' },
          runs: { type: 'string' },
          threads: { type: 'string' },
          json: { type: 'string' },
          'no-peers': { type: 'boolean' },
          'peer-threads': { type: 'string' },
        },
        'bench',
      );
      if (positionals.length) throw new UsageError(`bench: unexpected argument '${positionals[0]}'`);
      const size = (values.size as string | undefined) ?? 'standard';
      if (size !== 'standard' && size !== 'small')
        throw new UsageError(`bench: --size must be standard or small, got '${size}'`);
      await benchCommand(
        {
          backends: values.backend as string | undefined,
          ops: values.ops as string | undefined,
          size,
          runs: integer(values.runs as string | undefined, '--runs', 5),
          threads:
            values.threads === undefined ? undefined : integer(values.threads as string, '--threads', 1),
          json: values.json as string | undefined,
          peers: values['no-peers'] !== true,
          peerThreads:
            values['peer-threads'] === undefined
              ? undefined
              : integer(values['peer-threads'] as string, '--peer-threads', 1),
        },
        io,
      );
    } else if (command === 'pipelines') {
      pipelinesCommand(io);
    }
    return 0;
  } catch (err) {
    io.stderr.write(`wsss: ${(err as Error).message.split('\n')[0]}\n`);
    if (!(err instanceof UsageError) && process.env.WSSS_DEBUG) io.stderr.write(`${(err as Error).stack}\n`);
    return err instanceof UsageError ? err.exitCode : 1;
  }
}
