import { packageConfig } from '../../tsup.base';

/**
 * The library (`main`), the `wsss` binary (`dist/bin.js`; its shebang comes from src/bin.ts) and the bench harness
 * (`@wsss/cli/bench`: the kernels and the timing, no Node built-in, so a page can run them). Node only otherwise.
 */
export default packageConfig(
  { index: 'src/index.ts', bin: 'src/bin.ts', 'bench/index': 'src/bench/index.ts' },
  null,
);
