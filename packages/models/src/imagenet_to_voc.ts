/**
 * ImageNet classes that depict each VOC object class, as indices into the 1001 logits of the TF MobileNetV2
 * weights (index 0 = background, ImageNet class k at k + 1). VOC's person has no ImageNet class. Checked name by
 * name against the weights' `imagenet_labels.txt`.
 */
export const IMAGENET_1001_TO_VOC: Readonly<Record<string, readonly number[]>> = {
  aeroplane: [405, 896], // airliner, warplane
  bicycle: [445, 672], // tandem, mountain bike
  bird: [...range(8, 26), ...range(81, 102), ...range(128, 148)], // cock .. bustard
  boat: [473, 485, 511, 555, 577, 626, 629, 725, 781, 815, 834, 872, 915],
  bottle: [441, 721, 738, 899, 908], // beer, pill, pop, water, wine bottle
  bus: [780, 875, 655], // school bus, trolleybus, minibus
  car: [437, 469, 512, 610, 628, 657, 662, 718, 752, 818],
  cat: range(282, 287), // tabby, tiger, Persian, Siamese, Egyptian cat
  chair: [424, 560, 766, 858], // barber, folding, rocking chair, throne
  cow: [346, 347, 348], // ox, water buffalo, bison
  diningtable: [533],
  dog: range(152, 270), // Chihuahua .. Mexican hairless
  horse: [340, 604], // sorrel, horse cart
  motorbike: [671, 666], // motor scooter, moped
  pottedplant: [739], // pot, flowerpot
  sheep: [349, 350], // ram, bighorn
  sofa: [832], // studio couch
  train: [467, 548, 566, 821, 706, 830],
  tvmonitor: [852, 665, 783], // television, monitor, screen
};

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** VOC object classes in label-vector order (aeroplane .. tvmonitor); person is the one missing from the map. */
const mapped = Object.keys(IMAGENET_1001_TO_VOC);
const VOC_OBJECTS: readonly string[] = [...mapped.slice(0, 14), 'person', ...mapped.slice(14)];

/**
 * VOC class probabilities from 1001 ImageNet logits: for each of the 20 VOC classes, the softmax mass of its
 * ImageNet classes (0 for person). Shape: logits [1001] -> [20].
 */
export function vocProbabilitiesFromImageNet(logits: ArrayLike<number>): Float32Array {
  if (logits.length !== 1001)
    throw new Error(`vocProbabilitiesFromImageNet: expected 1001 logits, got ${logits.length}`);
  let maxLogit = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) maxLogit = Math.max(maxLogit, logits[i]);
  let total = 0;
  const p = Float64Array.from(logits, (v) => Math.exp(v - maxLogit));
  for (const v of p) total += v;
  return Float32Array.from(VOC_OBJECTS, (name) =>
    (IMAGENET_1001_TO_VOC[name] ?? []).reduce((s, k) => s + p[k] / total, 0),
  );
}

/**
 * For each VOC class, the ImageNet class (of its mapped ones) with the highest logit for this image; -1 for person.
 * Its classifier column then serves as the VOC class's CAM weights.
 */
export function bestImageNetClassPerVocClass(logits: ArrayLike<number>): Int32Array {
  return Int32Array.from(VOC_OBJECTS, (name) => {
    const candidates = IMAGENET_1001_TO_VOC[name] ?? [];
    let best = -1;
    for (const k of candidates) if (best < 0 || logits[k] > logits[best]) best = k;
    return best;
  });
}
