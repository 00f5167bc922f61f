/**
 * Browser code of index.html: draws Chart.js line charts per cohort (size, and KPIs when the
 * versions have them) from the embedded JSON.
 * Kept as plain text (not a compiled function) so no build step can rewrite it.
 */
export const CHART_SCRIPT = `
(function () {
  'use strict';
  var source = document.getElementById('report-data');
  if (!source || typeof Chart === 'undefined') return;
  var data = JSON.parse(source.textContent);
  var numbers = new Intl.NumberFormat('en-US');
  var blue = '#0b57d0', red = '#a40e26';
  var COMMON_OPTIONS = { animation: false, responsive: true, maintainAspectRatio: false, locale: 'en-US', interaction: { mode: 'index', intersect: false } };
  data.cohorts.forEach(function (cohort) {
    var canvas = document.getElementById('chart-' + cohort.id);
    if (!canvas) return;
    var held = cohort.versions.map(function (v) { return v.status === 'held'; });
    new Chart(canvas, {
      type: 'line',
      data: {
        labels: cohort.versions.map(function (v) { return 'v' + v.version; }),
        datasets: [{
          label: 'Members',
          data: cohort.versions.map(function (v) { return v.size; }),
          borderColor: blue,
          backgroundColor: 'rgba(11, 87, 208, 0.08)',
          fill: true,
          tension: 0,
          pointRadius: held.map(function (h) { return h ? 6 : 3; }),
          pointStyle: held.map(function (h) { return h ? 'rectRot' : 'circle'; }),
          pointBackgroundColor: held.map(function (h) { return h ? red : blue; }),
          pointBorderColor: held.map(function (h) { return h ? red : blue; })
        }]
      },
      options: Object.assign({}, COMMON_OPTIONS, {
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: function (items) {
                var v = cohort.versions[items[0].dataIndex];
                return 'v' + v.version + ' \\u00b7 ' + v.as_of.slice(0, 16).replace('T', ' ') + ' UTC';
              },
              label: function (item) {
                var v = cohort.versions[item.dataIndex];
                return numbers.format(v.size) + ' members' + (v.status === 'held' ? ' (held)' : '');
              }
            }
          }
        },
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0, callback: function (value) { return numbers.format(value); } } },
          x: { grid: { display: false } }
        }
      })
    });
    var kpiCanvas = document.getElementById('kpi-chart-' + cohort.id);
    if (!kpiCanvas || !cohort.has_kpis) return;
    var green = '#137333';
    new Chart(kpiCanvas, {
      type: 'line',
      data: {
        labels: cohort.versions.map(function (v) { return 'v' + v.version; }),
        datasets: [{
          label: 'Activation %',
          yAxisID: 'share',
          data: cohort.versions.map(function (v) { return v.activation_share === null ? null : Math.round(v.activation_share * 1000) / 10; }),
          borderColor: blue,
          backgroundColor: blue,
          tension: 0,
          pointRadius: 3
        }, {
          label: 'Value per member',
          yAxisID: 'value',
          data: cohort.versions.map(function (v) { return v.value_mean; }),
          borderColor: green,
          backgroundColor: green,
          borderDash: [6, 4],
          tension: 0,
          pointRadius: 3,
          pointStyle: 'rect'
        }]
      },
      options: Object.assign({}, COMMON_OPTIONS, {
        plugins: {
          legend: { display: true, position: 'bottom', labels: { boxWidth: 12 } },
          tooltip: {
            callbacks: {
              label: function (item) {
                if (item.raw === null) return item.dataset.label + ': none';
                return item.dataset.label + ': ' + numbers.format(item.raw) + (item.datasetIndex === 0 ? '%' : '');
              }
            }
          }
        },
        scales: {
          share: { position: 'left', beginAtZero: true, max: 100, title: { display: true, text: 'activation %' } },
          value: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'value per member' },
            ticks: { callback: function (value) { return numbers.format(value); } } },
          x: { grid: { display: false } }
        }
      })
    });
  });
})();
`;
