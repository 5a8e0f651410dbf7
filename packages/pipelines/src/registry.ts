import { auxSegNetPipeline } from './auxsegnet/pipeline';
import { baselinePipeline } from './baseline/pipeline';
import { ialPipeline } from './ial/pipeline';
import type { Pipeline } from './pipeline';
import { rrmPipeline } from './rrm/pipeline';

const registry = new Map<string, Pipeline<object>>([
  [baselinePipeline.name, baselinePipeline as Pipeline<object>],
  [rrmPipeline.name, rrmPipeline as unknown as Pipeline<object>],
  [ialPipeline.name, ialPipeline as unknown as Pipeline<object>],
  [auxSegNetPipeline.name, auxSegNetPipeline as unknown as Pipeline<object>],
]);

/** Makes a pipeline runnable by name (`wsss run <name>`). */
export function registerPipeline<C extends object>(pipeline: Pipeline<C>): void {
  registry.set(pipeline.name, pipeline as unknown as Pipeline<object>);
}

/** The pipeline registered as `name`, or an error listing the known ones. */
export function getPipeline(name: string): Pipeline<object> {
  const pipeline = registry.get(name);
  if (!pipeline) throw new Error(`unknown pipeline '${name}'; known: ${[...registry.keys()].join(', ')}`);
  return pipeline;
}

/** Every registered pipeline's name and description. */
export function listPipelines(): { name: string; description: string }[] {
  return [...registry.values()].map(({ name, description }) => ({ name, description }));
}
