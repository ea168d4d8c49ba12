import { describeExamples } from './r4-examples.js';

describeExamples(3);
