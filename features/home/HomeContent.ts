/** Product tips shown on the home page when the `product_tips` flag is on. */
export interface ProductTip {
  readonly title: string
  readonly description: string
  readonly permalink: string
}

export const productTips = (helpUrl: string): ReadonlyArray<ProductTip> => [
  {
    title: "One bad row rejects the whole file",
    description:
      "Uploads are all or nothing. If a row is rejected, the upload page lists every problem with its row and column, so you can fix the file and upload it again.",
    permalink: `${helpUrl}#uploads`,
  },
  {
    title: "Repeated activities are matched instantly",
    description:
      "An activity with the same description and unit as an earlier one reuses that emission factor, so monthly bills are calculated in seconds.",
    permalink: `${helpUrl}#matching`,
  },
  {
    title: "Every emission traces back to its source",
    description: "Open an activity's emission factor to see its publication, year, geography and licence.",
    permalink: `${helpUrl}#provenance`,
  },
]
