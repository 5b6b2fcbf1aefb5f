import type { CodegenConfig } from '@graphql-codegen/cli';

// Run from the repository root (`npm run build:web`): the schema is the committed contract.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['web/src/api/**/*.graphql'],
  generates: {
    'web/src/api/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Operations as strings: the browser sends them as they are, with no GraphQL runtime.
        documentMode: 'string',
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { JSONObject: 'Record<string, unknown>', DateTime: 'string' },
      },
    },
  },
};

export default config;
