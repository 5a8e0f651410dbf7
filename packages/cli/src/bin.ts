#!/usr/bin/env node
import { main } from './main';
import { enableRelaxedSimdOnNode20 } from './relaxed_simd';

enableRelaxedSimdOnNode20();
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
