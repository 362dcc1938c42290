// ECharts, registered module by module (vue-echarts README: "register only what you use").
// Imported only by the chart components, which the dashboard loads lazily, so ECharts stays out
// of the initial bundle.
import { use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'
import { BarChart, LineChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'

use([CanvasRenderer, BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent])

export const COLORS = { income: '#07c160', expense: '#fa5151', profit: '#576b95' }
export const PALETTE = ['#07c160', '#10aeff', '#ffc300', '#fa9d3b', '#fa5151', '#576b95', '#6467f0', '#95ec69']
