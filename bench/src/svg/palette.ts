// Colours distinguishable in colour-blind vision (Okabe–Ito), and dash patterns, so a series is
// identified by two cues (variant → colour, placement → dash) that survive greyscale printing.

export const colors = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

export const dashes = ['', '7 4', '2 3', '10 3 2 3'] as const;

export const colorAt = (i: number): string => colors[i % colors.length]!;
export const dashAt = (i: number): string => dashes[i % dashes.length]!;
