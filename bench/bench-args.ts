// Command-line options shared by the benchmarks: `--name value` pairs and bare flags.

/** The value after `--name`, or undefined when the option is not given; `usage` is called when the value is missing. */
export function optionValue(
  argv: readonly string[],
  name: string,
  usage: (message: string) => never,
): string | undefined {
  const at = argv.indexOf(name);
  if (at < 0) return undefined;
  const v = argv[at + 1];
  if (v === undefined || v.startsWith("--")) usage(`${name} needs a value`);
  return v;
}
