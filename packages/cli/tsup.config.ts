import { packageConfig } from '../../tsup.base';

/** The library (`main`) and the `wsss` binary (`dist/bin.js`; its shebang comes from src/bin.ts). */
export default packageConfig({ index: 'src/index.ts', bin: 'src/bin.ts' });
