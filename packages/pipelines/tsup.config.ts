import { packageConfig } from '../../tsup.base';

/** Node only (run folders, worker threads): no browser build. */
export default packageConfig({ index: 'src/index.ts' }, null);
