import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** How the model's training scaled pixels, read from a file beside the model, and which file said so. */
export interface ScalingEvidence {
  valueRange: [number, number];
  source: string;
}

/** A number as a training config writes it: `0.5`, `-1`, `1/127.5`, `1/255.0`. */
function parseNumber(text: string): number | undefined {
  const cleaned = text.trim().replace(/^['"]|['"]$/g, '');
  const fraction = /^(-?[\d.]+(?:e-?\d+)?)\s*\/\s*([\d.]+(?:e-?\d+)?)$/i.exec(cleaned);
  const value = fraction ? Number(fraction[1]) / Number(fraction[2]) : Number(cleaned);
  return cleaned !== '' && Number.isFinite(value) ? value : undefined;
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;

/**
 * The `preprocessing: rescaling: {scale, offset}` section of an STM32 model zoo training config
 * (`*_config.yaml`, kept beside ST's models), in block or flow style. Pixels 0..255 were fed as
 * `pixel · scale + offset`, so the model takes [offset, 255 · scale + offset].
 */
export function rescalingFromYaml(text: string): { scale: number; offset: number } | undefined {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => /^preprocessing:\s*(#.*)?$/.test(line));
  if (start < 0) return undefined;
  const section: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    section.push(line);
  }
  const body = section.join('\n');
  const flow = /^[ \t]+rescaling:[ \t]*\{([^}]*)\}/m.exec(body);
  let scaleText: string | undefined;
  let offsetText: string | undefined;
  if (flow) {
    scaleText = /scale:\s*([^,}]+)/.exec(flow[1])?.[1];
    offsetText = /offset:\s*([^,}]+)/.exec(flow[1])?.[1];
  } else {
    const block = /^([ \t]+)rescaling:[ \t]*\n((?:\1[ \t]+.*(?:\n|$))*)/m.exec(body);
    if (block) {
      scaleText = /^[ \t]+scale:[ \t]*(.+?)[ \t]*(#.*)?$/m.exec(block[2])?.[1];
      offsetText = /^[ \t]+offset:[ \t]*(.+?)[ \t]*(#.*)?$/m.exec(block[2])?.[1];
    }
  }
  const scale = scaleText === undefined ? undefined : parseNumber(scaleText);
  const offset = offsetText === undefined ? 0 : parseNumber(offsetText);
  if (scale === undefined || offset === undefined || scale <= 0) return undefined;
  return { scale, offset };
}

/** Looks for the training's pixel scaling in the YAML files of a model folder; undefined when none says. */
export async function findScalingEvidence(
  dir: string,
  names: string[],
): Promise<ScalingEvidence | undefined> {
  for (const name of names.filter((file) => ['.yaml', '.yml'].includes(extname(file))).sort()) {
    const rescaling = rescalingFromYaml(await readFile(join(dir, name), 'utf8'));
    if (rescaling) {
      const { scale, offset } = rescaling;
      return {
        valueRange: [round(offset), round(255 * scale + offset)],
        source: `${name} (preprocessing.rescaling: scale ${round(scale)}, offset ${round(offset)})`,
      };
    }
  }
  return undefined;
}
