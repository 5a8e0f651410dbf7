/** The pairwise terms and iteration count of one CRF configuration. */
export interface CrfParams {
  /** Gaussian (smoothness) kernel on positions. */
  gaussian?: { sxy: number; compat: number };
  /** Bilateral (appearance) kernel on positions and RGB. */
  bilateral?: { sxy: number; srgb: number; compat: number };
  iterations: number;
}

/**
 * The CRF settings of the reference implementations (anchors digest section 7.2):
 *
 * | preset | used for | Gaussian (sxy, compat) | bilateral (sxy, srgb, compat) | iterations |
 * |---|---|---|---|---|
 * | `psa` | psa / RRM / 1-stage CAM refinement, RRM in-training pseudo labels | 3, 3 | 80, 13, 10 | 10 |
 * | `rrmInference` | RRM test-time post-processing | 3, 3 | 83, 5, 4 | 10 |
 * | `auxSegNet` | AuxSegNet test-time post-processing | 4, 3 | 83, 5, 3 | 10 |
 * | `auxSegNetSaliency` | AuxSegNet 2-label saliency CRF | 3, 3 | 60, 5, 5 | 1 |
 * | `irn` | IRN CRF on hard labels (gtProb 0.7) | 3, 3 | 50, 5, 10 | 10 |
 */
export const CRF_PRESETS = {
  psa: { gaussian: { sxy: 3, compat: 3 }, bilateral: { sxy: 80, srgb: 13, compat: 10 }, iterations: 10 },
  rrmInference: {
    gaussian: { sxy: 3, compat: 3 },
    bilateral: { sxy: 83, srgb: 5, compat: 4 },
    iterations: 10,
  },
  auxSegNet: { gaussian: { sxy: 4, compat: 3 }, bilateral: { sxy: 83, srgb: 5, compat: 3 }, iterations: 10 },
  auxSegNetSaliency: {
    gaussian: { sxy: 3, compat: 3 },
    bilateral: { sxy: 60, srgb: 5, compat: 5 },
    iterations: 1,
  },
  irn: { gaussian: { sxy: 3, compat: 3 }, bilateral: { sxy: 50, srgb: 5, compat: 10 }, iterations: 10 },
} as const satisfies Record<string, CrfParams>;

export type CrfPresetName = keyof typeof CRF_PRESETS;
