/** The part of @lhncbc/ucum-lhc (shipped without types) the validator uses. */
declare module '@lhncbc/ucum-lhc' {
  export const UcumLhcUtils: {
    getInstance(): {
      convertUnitTo(fromUnitCode: string, fromVal: number, toUnitCode: string): { status: string; toVal: number | null };
    };
  };
}
