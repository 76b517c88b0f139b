// Module resolve hook used by remem-relay.js: resolves with the `@remem/source` export
// condition, so workspace packages load their TypeScript sources instead of `dist/`.
const CONDITION = '@remem/source'

export async function resolve(specifier, context, nextResolve) {
  if (context.conditions.includes(CONDITION)) return nextResolve(specifier, context)
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, CONDITION] })
}
