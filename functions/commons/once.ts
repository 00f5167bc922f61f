/** A function that builds its value on the first call and returns that value ever after: ports built once per container. */
export function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
